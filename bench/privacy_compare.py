"""This project's privacy report beside SDMetrics' DCR metrics on the same rows.

    bench/run privacy

or by hand (SDMetrics in the .venv/sdv virtualenv bench/run sdv makes):

    <Rust `privacy` bench binary> OUT_DIR > OUT_DIR/privacy.jsonl
    .venv/sdv/bin/python bench/privacy_compare.py OUT_DIR OUT_DIR/privacy.jsonl

The Rust side generates 10,000 "real" and 10,000 "synthetic" rows of the spec's fraud schema
(generator seeds 1 and 2), writes them as CSV and times `synth::privacy::report` at each
size: the DCR of every synthetic row to the real rows, the same for as many random rows
(DCRBaselineProtection), the nearest-neighbour ratio and the exact-match rate. Here, on the
same CSV rows, sdmetrics' `DCRBaselineProtection.compute_breakdown` (the same two DCR
passes; its own random rows) is timed, and `calculate_dcr`'s median of the synthetic rows is
compared with the Rust one (the same number by definition: no randomness in it). SDMetrics
runs the sizes up to 1,000 × 10,000 (10,000 × 10,000 would take it about an hour here).
"""
import json
import sys
import time

import pandas as pd
import sdmetrics
from sdmetrics.single_table.privacy.dcr_baseline_protection import DCRBaselineProtection
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

MAX_SDMETRICS_PAIRS = 10_000_000


def main(out_dir, results_path):
    with open(results_path) as f:
        ours = [json.loads(line) for line in f if line.strip()]
    real = pd.read_csv(f"{out_dir}/privacy_real.csv")
    synthetic = pd.read_csv(f"{out_dir}/privacy_synthetic.csv")
    first = ours[0]
    metadata = {"columns": {c: {"sdtype": "numerical" if m == "numeric" else "categorical"}
                            for c, m in zip(first["columns"], first["measures"])}}
    print("| synthetic × real rows | this project s | sdmetrics s | speed-up | median DCR (ours) "
          "| median DCR (sdmetrics) | baseline score (ours / sdmetrics, own random rows) |")
    print("|---|---|---|---|---|---|---|")
    report = []
    for r in ours:
        s_rows, r_rows = r["synthetic_rows"], r["real_rows"]
        row = {**r, "sdmetrics_seconds": None, "sdmetrics_dcr_median": None,
               "sdmetrics_baseline_score": None}
        if s_rows * r_rows <= MAX_SDMETRICS_PAIRS:
            syn, ref = synthetic.iloc[:s_rows], real.iloc[:r_rows]
            started = time.perf_counter()
            b = DCRBaselineProtection.compute_breakdown(ref, syn, metadata, None)
            row["sdmetrics_seconds"] = time.perf_counter() - started
            row["sdmetrics_baseline_score"] = b["score"]
            row["sdmetrics_dcr_median"] = float(calculate_dcr(syn, ref, metadata).median())
        report.append(row)
        sd = row["sdmetrics_seconds"]
        if sd is None:
            theirs, speedup, median, baseline = "—", "—", "—", "—"
        else:
            theirs, speedup = f"{sd:.1f}", f"{sd / r['seconds']:.0f}×"
            median = f"{row['sdmetrics_dcr_median']:.6f}"
            baseline = f"{row['sdmetrics_baseline_score']:.4f}"
        print(f"| {s_rows:,} × {r_rows:,} | {r['seconds']:.3f} | {theirs} | {speedup} "
              f"| {r['dcr_median']:.6f} | {median} | {r['baseline_score']:.4f} / {baseline} |")
    with open(f"{out_dir}/privacy_report.json", "w") as f:
        json.dump({"sdmetrics": sdmetrics.__version__, "pandas": pd.__version__,
                   "rows": report}, f, indent=1)
    print(json.dumps({"sdmetrics": sdmetrics.__version__, "pandas": pd.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
