"""Constraints beside SDV's constraint-augmented generation, side by side in one run.

The real table is scikit-learn's breast-cancer data (569 rows, 31 columns), whose "worst"
columns are the mean of each tumour's three largest cells, so `mean_x <= worst_x` holds on every
real row. Both synthesizers fit the table with and without the four inequalities (radius,
texture, perimeter, area; SDV 2's `sdv.cag.Inequality`, this project's `inequality` with
`or_equal`) and sample 569 rows; time is fit + sample, the median of RUNS runs. Each sample is
checked for the share of rows breaking an inequality and scored by SDMetrics' QualityReport
against the real rows.

usage: constraints_compare.py <path to the release `synth` benchmark binary> [runs]
Runs in .venv/sdv (sdv without its deep-learning extras, sdmetrics, scikit-learn).
"""
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import pandas as pd
from sdv.cag import Inequality
from sdv.single_table import GaussianCopulaSynthesizer

import breast_cancer

warnings.filterwarnings("ignore")
SYNTH = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
OUT, data, real_csv, _ = breast_cancer.setup("constraints")
PAIRS = [(f"mean_{x}", f"worst_{x}") for x in ("radius", "texture", "perimeter", "area")]
assert all((data[lo] <= data[hi]).all() for lo, hi in PAIRS)


def metadata():
    return breast_cancer.metadata_of(data)


def violating(sample):
    broken = pd.Series(False, index=sample.index)
    for lo, hi in PAIRS:
        broken |= sample[lo] > sample[hi]
    return float(broken.mean())


def quality(sample):
    return breast_cancer.quality(data, sample, metadata())


def sdv(constrained):
    times, sample = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        synthesizer = GaussianCopulaSynthesizer(metadata())
        if constrained:
            synthesizer.add_constraints([Inequality(low_column_name=lo, high_column_name=hi) for lo, hi in PAIRS])
        synthesizer.fit({"breast_cancer": data})
        sample = synthesizer.sample(num_rows=len(data))
        if isinstance(sample, dict):
            sample = sample["breast_cancer"]
        times.append((time.perf_counter() - started) * 1000.0)
    return {"fit_and_sample_ms": statistics.median(times), "violating": violating(sample), "quality": quality(sample)}


def ours(constrained):
    constraints = [{"type": "inequality", "low": lo, "high": hi, "or_equal": True} for lo, hi in PAIRS] if constrained else []
    out_csv = os.path.join(OUT, "project_sample.csv")
    times, report = [], None
    for _ in range(RUNS):
        result = json.loads(subprocess.check_output([SYNTH, "constraints", real_csv, "target", json.dumps(constraints), out_csv]))
        times.append(result["total_ms"])
        report = result["report"]
    sample = pd.read_csv(out_csv)
    return {"fit_and_sample_ms": statistics.median(times), "violating": violating(sample), "quality": quality(sample),
            "rejection_rate": report["rejection_rate"], "methods": [c["method"] for c in report["constraints"]]}


result = {"table": {"name": "sklearn breast_cancer", "rows": len(data), "columns": len(data.columns)},
          "constraints": [f"{lo} <= {hi}" for lo, hi in PAIRS], "runs": RUNS,
          "sdv_gaussian_copula": {"unconstrained": sdv(False), "constrained": sdv(True)},
          "project": {"unconstrained": ours(False), "constrained": ours(True)}}
result["speed_ratio_constrained_sdv_over_project"] = (
    result["sdv_gaussian_copula"]["constrained"]["fit_and_sample_ms"] / result["project"]["constrained"]["fit_and_sample_ms"])
print(json.dumps(result, indent=2))
