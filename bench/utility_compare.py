"""The utility report (TSTR against TRTR) beside scikit-learn, and the rows beside SDV's.

For each of three scikit-learn tables (breast cancer: 2 classes; wine: 3 classes; diabetes: a
numeric target), one seeded 80/20 split (stratified for classes) gives train and holdout CSVs.
This project's generator and SDV 2's GaussianCopulaSynthesizer are each fitted on the train
rows and sample as many rows as it has. Then, on the same files:
* this project's utility report (its gbm on real train rows, TRTR, and on each synthetic
  table, TSTR, all tested on the holdout; `utility_ms` its time for both fits and scores);
* scikit-learn's HistGradientBoosting (default settings) trained on the same three training
  tables and tested on the same holdout: the reference for the numbers, timed the same way
  (TRTR and TSTR fits and predictions).

usage: utility_compare.py <path to the release `synth` benchmark binary> [runs]
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
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer

warnings.filterwarnings("ignore")
SYNTH = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench-utility")
os.makedirs(OUT, exist_ok=True)

TABLES = [
    ("breast_cancer", load_breast_cancer, "classification"),
    ("wine", load_wine, "classification"),
    ("diabetes", load_diabetes, "regression"),
]


def sklearn_side(task, train, holdout, target):
    """Holdout score of HistGradientBoosting trained on `train`, and its fit+predict seconds."""
    model = HistGradientBoostingClassifier() if task == "classification" else HistGradientBoostingRegressor()
    x, y = train.drop(columns=[target]), train[target]
    t = time.perf_counter()
    model.fit(x, y)
    predicted = model.predict(holdout.drop(columns=[target]))
    seconds = time.perf_counter() - t
    truth = holdout[target]
    score = accuracy_score(truth, predicted) if task == "classification" else r2_score(truth, predicted)
    return score, seconds


def main():
    rows = []
    for name, load, task in TABLES:
        data = load(as_frame=True).frame
        data.columns = [c.replace(" ", "_").replace("/", "_") for c in data.columns]
        target = "target"
        if task == "classification":
            data[target] = "class_" + data[target].astype(str)
        train, holdout = train_test_split(
            data, test_size=0.2, random_state=0,
            stratify=data[target] if task == "classification" else None)
        paths = {k: os.path.join(OUT, f"{name}_{k}.csv") for k in ("train", "holdout", "ours", "sdv")}
        train.to_csv(paths["train"], index=False)
        holdout.to_csv(paths["holdout"], index=False)

        metadata = Metadata.detect_from_dataframes({name: train})
        if task == "classification":
            metadata.update_column(column_name=target, sdtype="categorical", table_name=name)
        sdv = GaussianCopulaSynthesizer(metadata)
        sdv.fit({name: train})
        sample = sdv.sample(num_rows=len(train))
        if isinstance(sample, dict):
            sample = sample[name]
        sample.to_csv(paths["sdv"], index=False)

        ours_runs = []
        for _ in range(RUNS):
            out = subprocess.run(
                [SYNTH, "utility", paths["train"], paths["holdout"], target, task,
                 str(len(train)), paths["ours"], paths["sdv"]],
                check=True, capture_output=True, text=True).stdout
            ours_runs.append(json.loads(out))
        ours = ours_runs[0]
        metric = "accuracy" if task == "classification" else "r2"
        report_ours, report_sdv = (r["report"] for r in ours["reports"])
        utility_ms = statistics.median(r["reports"][0]["utility_ms"] for r in ours_runs)

        tables = {k: pd.read_csv(paths[k]) for k in ("train", "ours", "sdv")}
        sk = {}
        sk_ms = []
        for _ in range(RUNS):
            real_score, real_s = sklearn_side(task, tables["train"], holdout, target)
            ours_score, ours_s = sklearn_side(task, tables["ours"], holdout, target)
            sk_ms.append((real_s + ours_s) * 1000)
        sdv_score, _ = sklearn_side(task, tables["sdv"], holdout, target)
        sk = {"real": real_score, "ours": ours_score, "sdv": sdv_score}
        rows.append({
            "table": name, "task": task, "metric": metric,
            "train_rows": len(train), "holdout_rows": len(holdout),
            "ours": {"trtr": report_ours["real"][metric], "tstr_ours": report_ours["synthetic"][metric],
                     "tstr_sdv": report_sdv["synthetic"][metric], "ratio_ours": report_ours["ratio"],
                     "ratio_sdv": report_sdv["ratio"], "utility_ms": utility_ms},
            "sklearn": {"trtr": sk["real"], "tstr_ours": sk["ours"], "tstr_sdv": sk["sdv"],
                        "ratio_ours": sk["ours"] / sk["real"] if sk["real"] > 0 else None,
                        "ratio_sdv": sk["sdv"] / sk["real"] if sk["real"] > 0 else None,
                        "fit_predict_ms": statistics.median(sk_ms)},
        })
        print(json.dumps(rows[-1]), flush=True)

    print()
    print("| table | metric | TRTR ours / sklearn | TSTR, our rows: ours / sklearn | TSTR, SDV rows: ours / sklearn | ratio, our rows: ours / sklearn | ratio, SDV rows: ours / sklearn | time ours ms | time sklearn ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, s = r["ours"], r["sklearn"]
        print(f"| {r['table']} ({r['train_rows']} + {r['holdout_rows']}) | {r['metric']} "
              f"| {o['trtr']:.3f} / {s['trtr']:.3f} | {o['tstr_ours']:.3f} / {s['tstr_ours']:.3f} "
              f"| {o['tstr_sdv']:.3f} / {s['tstr_sdv']:.3f} | {o['ratio_ours']:.3f} / {s['ratio_ours']:.3f} "
              f"| {o['ratio_sdv']:.3f} / {s['ratio_sdv']:.3f} | {o['utility_ms']:.0f} | {s['fit_predict_ms']:.0f} |")


main()
