"""Fit-and-sample against SDV's GaussianCopulaSynthesizer, side by side in one run.

The real table is scikit-learn's breast-cancer data (569 rows, 30 numeric features and the
binary target). Both synthesizers fit it and sample 569 rows; the wall time of fit + sample
is the median of RUNS runs each. Both samples are scored twice: by SDMetrics' QualityReport
(the reference implementation) and by this project's metric (`synth score`).

usage: sdv_compare.py <path to the release `synth` benchmark binary> [runs]
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
from sdmetrics.reports.single_table import QualityReport
from sdv.single_table import GaussianCopulaSynthesizer

import breast_cancer

warnings.filterwarnings("ignore")
SYNTH = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
OUT, data, real_csv, metadata = breast_cancer.setup("sdv")

sdv_times = []
for run in range(RUNS):
    started = time.perf_counter()
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit({"breast_cancer": data})
    sdv_sample = synthesizer.sample(num_rows=len(data))
    if isinstance(sdv_sample, dict):  # SDV 2 answers {table: frame}
        sdv_sample = sdv_sample["breast_cancer"]
    sdv_times.append((time.perf_counter() - started) * 1000.0)
sdv_csv = os.path.join(OUT, "sdv_sample.csv")
sdv_sample.to_csv(sdv_csv, index=False)

ours_csv = os.path.join(OUT, "project_sample.csv")
ours = json.loads(subprocess.check_output([SYNTH, "fit", real_csv, "target", ours_csv, str(RUNS)]))["fit_and_sample"]
ours_sample = pd.read_csv(ours_csv)


def sdmetrics_score(sample):
    report = QualityReport()
    report.generate(data, sample[data.columns], metadata.to_dict()["tables"]["breast_cancer"], verbose=False)
    props = report.get_properties().set_index("Property")["Score"].to_dict()
    return {"quality_score": report.get_score(), "column_shapes": props.get("Column Shapes"),
            "column_pair_trends": props.get("Column Pair Trends")}


def project_score(sample_csv):
    out = subprocess.check_output([SYNTH, "score", real_csv, sample_csv, "target"])
    return json.loads(out)["score"]


sdv_ms = statistics.median(sdv_times)
result = {
    "table": {"name": "sklearn breast_cancer", "rows": len(data), "columns": len(data.columns)},
    "runs": RUNS,
    "sdv_gaussian_copula": {"fit_and_sample_ms": sdv_ms, "sdmetrics": sdmetrics_score(sdv_sample), "project_metric": project_score(sdv_csv)},
    "project": {"fit_ms": ours["fit_ms"], "sample_ms": ours["sample_ms"], "fit_and_sample_ms": ours["total_ms"],
                "sdmetrics": sdmetrics_score(ours_sample), "project_metric": project_score(ours_csv)},
}
result["speed_ratio_sdv_over_project"] = sdv_ms / ours["total_ms"]
print(json.dumps(result, indent=2))
