"""Conditional sampling beside SDV's GaussianCopulaSynthesizer, side by side in one run.

The real table is scikit-learn's breast-cancer data (569 rows, 30 numeric features, the binary
target; target 0 is malignant). Both synthesizers are fitted once; then each case asks for
ROWS rows meeting its conditions, and the sampling time is the median of RUNS runs.

SDV conditions on fixed values only (`sample_from_conditions`); a range has no SDV condition
(sdv-dev/SDV #1843), so SDV's side of a range case is what its users do instead: sample in
batches of ROWS and keep the rows inside the range, until ROWS are kept or MAX_DRAWS rows were
drawn. Each side's rows are checked against the conditions (`meets`: the share that do), and
where the real table has at least 40 rows meeting the conditions, both samples are scored
against those real rows by SDMetrics' QualityReport (`quality_vs_real_subset`).

usage: conditions_compare.py <path to the release `synth` benchmark binary> [runs]
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
from sdv.sampling import Condition
from sdv.single_table import GaussianCopulaSynthesizer

import breast_cancer

warnings.filterwarnings("ignore")
SYNTH = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ROWS = 1000
MAX_DRAWS = 2_000_000
OUT, data, real_csv, metadata = breast_cancer.setup("conditions")

radius = data["mean_radius"]
p90, p995 = float(radius.quantile(0.9)), float(radius.quantile(0.995))
# A fixed value inside the column's range, as written in the data (two decimals).
value = round(float(radius.quantile(0.75)), 2)
CASES = [
    ("class: target = 0", [{"column": "target", "value": 0}]),
    ("value: mean_radius = p75", [{"column": "mean_radius", "value": value}]),
    ("range: mean_radius >= p90", [{"column": "mean_radius", "min": p90}]),
    ("rare range: mean_radius >= p99.5", [{"column": "mean_radius", "min": p995}]),
    ("class and range: target = 1, mean_radius >= p90",
     [{"column": "target", "value": 1}, {"column": "mean_radius", "min": p90}]),
]


def meets(frame, conditions):
    mask = pd.Series(True, index=frame.index)
    for c in conditions:
        col = frame[c["column"]]
        if "value" in c:
            mask &= (col - c["value"]).abs() < 1e-9
        if "min" in c:
            mask &= col >= c["min"]
        if "max" in c:
            mask &= col <= c["max"]
    return mask


def sdv_sample(synthesizer, conditions):
    """SDV's conditional sampling for the fixed values, then batches filtered by the ranges."""
    fixed = {c["column"]: c["value"] for c in conditions if "value" in c}
    ranged = [c for c in conditions if "value" not in c]
    kept, drawn = [], 0
    while sum(len(k) for k in kept) < ROWS and drawn < MAX_DRAWS:
        if fixed:
            batch = synthesizer.sample_from_conditions([Condition(num_rows=ROWS, column_values=fixed)])
        else:
            batch = synthesizer.sample(num_rows=ROWS)
        if isinstance(batch, dict):
            batch = batch["breast_cancer"]
        drawn += len(batch)
        kept.append(batch[meets(batch, ranged)] if ranged else batch)
        if not ranged:
            break
    frame = pd.concat(kept).head(ROWS)
    return frame, drawn


def quality(real_subset, sample):
    if len(real_subset) < 40 or len(sample) == 0:
        return None
    return breast_cancer.quality(real_subset, sample, metadata)


started = time.perf_counter()
synthesizer = GaussianCopulaSynthesizer(metadata)
synthesizer.fit({"breast_cancer": data})
sdv_fit_ms = (time.perf_counter() - started) * 1000.0

results = []
for name, conditions in CASES:
    real_subset = data[meets(data, conditions)]
    sdv_times, sdv_error, sdv_frame, sdv_drawn = [], None, pd.DataFrame(columns=data.columns), 0
    for _ in range(RUNS):
        t = time.perf_counter()
        try:
            sdv_frame, sdv_drawn = sdv_sample(synthesizer, conditions)
        except Exception as e:  # SDV raises when its rejection gives up
            sdv_error = f"{type(e).__name__}: {str(e)[:200]}"
            break
        sdv_times.append((time.perf_counter() - t) * 1000.0)
    ours_csv = os.path.join(OUT, "project_sample.csv")
    ours = json.loads(subprocess.check_output(
        [SYNTH, "conditions", real_csv, "target", json.dumps(conditions), str(ROWS), ours_csv, str(RUNS)]))
    ours_frame = pd.read_csv(ours_csv) if "error" not in ours else pd.DataFrame(columns=data.columns)
    results.append({
        "case": name,
        "conditions": conditions,
        "real_rows_meeting": int(len(real_subset)),
        "sdv": {
            "sample_ms": statistics.median(sdv_times) if sdv_times else None,
            "rows": int(len(sdv_frame)),
            "meets": float(meets(sdv_frame, conditions).mean()) if len(sdv_frame) else None,
            "rows_drawn": sdv_drawn,
            "error": sdv_error,
            "quality_vs_real_subset": quality(real_subset, sdv_frame) if sdv_error is None else None,
        },
        "project": {
            "sample_ms": ours.get("sample_ms"),
            "rows": int(len(ours_frame)),
            "meets": float(meets(ours_frame, conditions).mean()) if len(ours_frame) else None,
            "acceptance": (ours.get("report") or {}).get("acceptance"),
            "methods": [c["method"] for c in (ours.get("report") or {}).get("conditions", [])],
            "error": ours.get("error"),
            "quality_vs_real_subset": quality(real_subset, ours_frame) if "error" not in ours else None,
        },
    })
    if results[-1]["sdv"]["sample_ms"] and results[-1]["project"]["sample_ms"]:
        results[-1]["speed_ratio_sdv_over_project"] = results[-1]["sdv"]["sample_ms"] / results[-1]["project"]["sample_ms"]

print(json.dumps({"table": {"name": "sklearn breast_cancer", "rows": len(data), "columns": len(data.columns)},
                  "rows_per_case": ROWS, "runs": RUNS, "sdv_fit_ms": sdv_fit_ms, "cases": results}, indent=2))
