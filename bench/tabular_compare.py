"""This project's tabular models beside scikit-learn, LightGBM and FLAML, on the same rows.

Run it through the wrapper, which prepares the tables, runs the Rust `tabular` benchmark on
them and then compares:

    bench/run tabular

or by hand, with the bench virtualenv (numpy, scikit-learn, lightgbm, flaml and what FLAML's
AutoML imports: xgboost, pandas; this script itself needs only numpy and scikit-learn):

    .venv/bench/bin/python bench/tabular_compare.py prepare OUT_DIR [--seed 0]
    <Rust bench binary> OUT_DIR > OUT_DIR/results.jsonl
    .venv/bench/bin/python bench/tabular_compare.py compare OUT_DIR OUT_DIR/results.jsonl --budget 60

`prepare` writes scikit-learn's shipped tables (no download) as CSV, each with a split file:
  breast_cancer (binary), wine (3 classes), digits (10 classes), diabetes (regression), and
  large (make_classification, 125,000 rows x 20 features, binary: 100,000 train, 25,000 test),
  as OUT_DIR/{name}.csv (header of feature names in [a-z0-9_], `target` last; class targets as
  strings so they read as categorical, floats as repr so they round-trip) and
  OUT_DIR/{name}.split.json ({"task", "target", "train", "test"}: 0-based data-row indices,
  sorted, from train_test_split(random_state=seed), stratified for classification; 75/25 on
  the small tables).

`compare` reads the Rust results (JSON lines: table, model, metric, score, fit_seconds and
optionally predict_us_per_row, predict_us_single_row, trees, notes; an empty file is fine) and
fits, on the same train rows from the same CSV, read back as the Rust side reads it:
  - each small table: scikit-learn HistGradientBoosting (defaults, random_state=0), LightGBM
    (defaults, n_jobs=2) and FLAML AutoML (time_budget=--budget, metric accuracy / r2, seed 0,
    n_jobs=2, FLAML's default estimator list); test accuracy or R2, fit seconds
    (perf_counter around fit), predict us/row (whole test set, best of 3);
  - large: fit seconds and test accuracy of LightGBM (100 trees) and HistGradientBoosting
    (defaults: on 100k rows that means early stopping on a 10% validation split), predict
    us/row for one row (median of 200 calls) and for the whole test set (best of 3). A Rust row
    on `large` gives the whole-set figure as predict_us_per_row and the one-row figure as
    predict_us_single_row;
  - one MLP epoch: MLPClassifier((64, 32), adam, lr 0.001, batch 32, max_iter=1) on
    breast_cancer standardized with a scaler fit on the train rows; seconds for one epoch as the
    median of 5 one-iteration fits (each includes initialisation), beside the Rust `mlp_epoch` row
    (its fit_seconds read as seconds per epoch).
It prints Markdown tables, a line per table "auto - best reference = X points" (points: 100 x
the difference in accuracy or R2) with their mean, and writes everything to OUT_DIR/compare.json.
Run it on an otherwise idle machine: HistGradientBoosting's OpenMP threads slow down by far more
than their share when a build holds the cores (the large fit went from 1.7 s to 133 s here), so
the load average at the start and end is printed and recorded.
Classification targets are encoded with the sorted unique labels. Trees are counted in total
(per class for multiclass): HistGradientBoosting n_iter_ x trees per iteration, LightGBM's
booster num_trees().
"""
import argparse
import csv
import json
import math
import os
import platform
import re
import statistics
import sys
import time
import warnings

import numpy as np

SMALL = ["breast_cancer", "wine", "digits", "diabetes"]
LARGE = "large"
TARGET = "target"


# --------------------------------------------------------------------------------------------
# prepare

def sanitize(names):
    """Feature names as [a-z0-9_], non-empty, unique, and never the target column's name."""
    out, seen = [], set()
    for i, raw in enumerate(names):
        name = re.sub(r"[^a-z0-9_]+", "_", str(raw).strip().lower())
        name = re.sub(r"_+", "_", name).strip("_") or f"f{i}"
        base, k = name, 2
        while name in seen or name == TARGET:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out.append(name)
    return out


def write_table(out_dir, name, features, x, target, task, train, test):
    with open(f"{out_dir}/{name}.csv", "w", newline="") as f:
        f.write(",".join(features + [TARGET]) + "\n")
        for row, t in zip(x, target):
            f.write(",".join(map(repr, map(float, row))) + "," + t + "\n")
    split = {"task": task, "target": TARGET,
             "train": sorted(int(i) for i in train), "test": sorted(int(i) for i in test)}
    with open(f"{out_dir}/{name}.split.json", "w") as f:
        json.dump(split, f)
    n_classes = f", {len(set(target))} classes" if task == "classification" else ""
    print(f"{name}: {len(x)} rows, {len(features) + 1} columns ({len(features)} features + "
          f"{TARGET}), {task}{n_classes}; {len(split['train'])} train, {len(split['test'])} test")


def prepare(out_dir, seed):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    os.makedirs(out_dir, exist_ok=True)
    loaders = {
        "breast_cancer": (datasets.load_breast_cancer, lambda names, v: str(names[v])),
        "wine": (datasets.load_wine, lambda names, v: str(names[v])),
        "digits": (datasets.load_digits, lambda names, v: f"d{int(names[v])}"),
        "diabetes": (datasets.load_diabetes, None),
    }
    for name in SMALL:
        load, label = loaders[name]
        d = load()
        x, y = np.asarray(d.data, dtype=np.float64), np.asarray(d.target)
        rows = np.arange(len(x))
        if label is None:
            task, target, stratify = "regression", [repr(float(v)) for v in y], None
        else:
            task, target, stratify = "classification", [label(d.target_names, v) for v in y], y
        train, test = train_test_split(rows, test_size=0.25, random_state=seed, stratify=stratify)
        write_table(out_dir, name, sanitize(d.feature_names), x, target, task, train, test)

    x, y = datasets.make_classification(n_samples=125_000, n_features=20, n_informative=10,
                                        random_state=seed)
    train, test = train_test_split(np.arange(len(x)), train_size=100_000, test_size=25_000,
                                   random_state=seed, stratify=y)
    write_table(out_dir, LARGE, [f"x{i}" for i in range(x.shape[1])], x,
                [f"c{int(v)}" for v in y], "classification", train, test)


# --------------------------------------------------------------------------------------------
# compare

def load_table(out_dir, name):
    """The CSV and split as the Rust side sees them: features as floats, target by task."""
    with open(f"{out_dir}/{name}.split.json") as f:
        split = json.load(f)
    with open(f"{out_dir}/{name}.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    t = header.index(split.get("target", TARGET))
    feats = [i for i in range(len(header)) if i != t]
    x = np.array([[float(r[i]) for i in feats] for r in rows], dtype=np.float64)
    raw = [r[t] for r in rows]
    if split["task"] == "classification":
        labels = sorted(set(raw))
        index = {v: i for i, v in enumerate(labels)}
        y = np.array([index[v] for v in raw], dtype=np.int64)
    else:
        labels, y = None, np.array([float(v) for v in raw], dtype=np.float64)
    tr, te = np.array(split["train"], dtype=np.int64), np.array(split["test"], dtype=np.int64)
    return {"task": split["task"], "labels": labels, "features": [header[i] for i in feats],
            "x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}


def score(task, y_true, y_pred):
    from sklearn.metrics import accuracy_score, r2_score
    if task == "classification":
        return float(accuracy_score(y_true, np.asarray(y_pred).astype(np.int64)))
    return float(r2_score(y_true, y_pred))


def timed_fit(fit):
    t0 = time.perf_counter()
    fit()
    return time.perf_counter() - t0


def predict_us_whole(predict, x, repeats=3):
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(x)
        best = min(best, time.perf_counter() - t0)
    return best / len(x) * 1e6


def predict_us_single(predict, x, calls=200):
    one, times = x[:1], []
    for _ in range(calls):
        t0 = time.perf_counter()
        predict(one)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def hgb(task):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(random_state=0)


def hgb_trees(m):
    return int(m.n_iter_ * m.n_trees_per_iteration_)


def lgbm(task, **kw):
    import lightgbm
    cls = lightgbm.LGBMClassifier if task == "classification" else lightgbm.LGBMRegressor
    return cls(verbose=-1, n_jobs=2, **kw)


def reference_row(engine, t, model, fit_s, predict_us, trees=None, notes=""):
    pred = model.predict(t["x_test"])
    return {"engine": engine, "score": score(t["task"], t["y_test"], pred), "fit_seconds": fit_s,
            "predict_us_per_row": predict_us, "trees": trees, "notes": notes}


def fit_small(t, budget, versions):
    out = []
    x, y = t["x_train"], t["y_train"]

    m = hgb(t["task"])
    fit_s = timed_fit(lambda: m.fit(x, y))
    out.append(reference_row(f"scikit-learn {versions['scikit-learn']} HistGradientBoosting", t, m,
                             fit_s, predict_us_whole(m.predict, t["x_test"]), hgb_trees(m)))

    if versions.get("lightgbm"):
        m = lgbm(t["task"])
        fit_s = timed_fit(lambda: m.fit(x, y))
        out.append(reference_row(f"LightGBM {versions['lightgbm']} LGBM", t, m, fit_s,
                                 predict_us_whole(m.predict, t["x_test"]), m.booster_.num_trees()))

    if versions.get("flaml"):
        from flaml import AutoML
        m = AutoML()
        metric = "accuracy" if t["task"] == "classification" else "r2"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_s = timed_fit(lambda: m.fit(x, y, task=t["task"], time_budget=budget,
                                            metric=metric, seed=0, n_jobs=2, verbose=0))
            us = predict_us_whole(m.predict, t["x_test"])
            row = reference_row(f"FLAML {versions['flaml']} AutoML ({budget:g} s)", t, m, fit_s, us,
                                notes=f"best: {m.best_estimator}")
        row["best_estimator"] = m.best_estimator
        row["best_config"] = m.best_config
        row["estimator_list"] = list(getattr(m, "estimator_list", []) or [])
        out.append(row)
    return out


def fit_large(t, versions):
    out = []
    x, y, xt = t["x_train"], t["y_train"], t["x_test"]
    models = [(f"scikit-learn {versions['scikit-learn']} HistGradientBoosting", hgb(t["task"]),
               hgb_trees, "defaults: early stopping on")]
    if versions.get("lightgbm"):
        models.append((f"LightGBM {versions['lightgbm']} LGBM", lgbm(t["task"], n_estimators=100),
                       lambda m: m.booster_.num_trees(), "n_estimators=100"))
    for engine, m, trees, notes in models:
        fit_s = timed_fit(lambda: m.fit(x, y))
        row = reference_row(engine, t, m, fit_s, predict_us_whole(m.predict, xt), trees(m), notes)
        row["predict_us_single_row"] = predict_us_single(m.predict, xt)
        out.append(row)
    return out


def mlp_epoch(t):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(t["x_train"])
    x, xt = scaler.transform(t["x_train"]), scaler.transform(t["x_test"])
    times, accs = [], []
    for i in range(5):
        m = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=32, max_iter=1, solver="adam",
                          learning_rate_init=0.001, random_state=i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            times.append(timed_fit(lambda: m.fit(x, t["y_train"])))
        accs.append(score("classification", t["y_test"], m.predict(xt)))
    return {"seconds_per_epoch": statistics.median(times), "seconds_all": times,
            "test_accuracy_after_1_epoch": statistics.median(accs), "n_train": len(x)}


def versions_of():
    import sklearn
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scikit-learn": sklearn.__version__}
    for mod in ("lightgbm", "flaml", "xgboost"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = __import__(mod)
                if mod == "flaml":
                    from flaml import AutoML  # noqa: F401 - needs flaml's automl extras
            v[mod] = m.__version__
        except Exception as e:  # noqa: BLE001 - report and compare without it
            print(f"{mod} not available ({e}); comparing without it", file=sys.stderr)
            v[mod] = None
    return v


def read_results(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        print(f"{path} not found; comparing the references alone", file=sys.stderr)
        return []


def fmt(v, digits=None):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, int):
        return str(v)
    if digits is not None:
        return f"{v:.{digits}f}"
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"


def project_rows(rust, table, expected, exclude=()):
    """This project's rows for a table, with a placeholder for each expected model it lacks."""
    rows = [r for r in rust if r.get("table") == table and r.get("model") not in exclude]
    have = {r.get("model") for r in rows}
    rows += [{"table": table, "model": m} for m in expected if m not in have]
    order = {m: i for i, m in enumerate(expected)}
    rows.sort(key=lambda r: order.get(r.get("model"), len(order)))
    return [{"engine": f"this project: {r.get('model')}", "model": r.get("model"),
             "metric": r.get("metric"), "score": r.get("score"),
             "fit_seconds": r.get("fit_seconds"), "predict_us_per_row": r.get("predict_us_per_row"),
             "predict_us_single_row": r.get("predict_us_single_row"), "trees": r.get("trees"),
             "notes": r.get("notes") or ""} for r in rows]


def notes_of(r):
    parts = []
    if r.get("trees") is not None:
        parts.append(f"{r['trees']} trees")
    if r.get("notes"):
        parts.append(str(r["notes"]))
    return "; ".join(parts)


def compare(out_dir, results_path, budget):
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    rust = read_results(results_path)
    versions = versions_of()
    report = {"budget_seconds": budget, "versions": versions, "tables": {}}
    diffs = []

    for name in SMALL:
        t = load_table(out_dir, name)
        metric = "accuracy" if t["task"] == "classification" else "r2"
        ours = project_rows(rust, name, ["gbm", "auto"], exclude=("mlp_epoch",))
        for r in ours:
            r["metric_mismatch"] = r["metric"] is not None and r["metric"] != metric
            if r["metric_mismatch"]:
                r["notes"] = (r["notes"] + "; " if r["notes"] else "") + f"metric {r['metric']}!"
        refs = fit_small(t, budget, versions)
        auto = [r["score"] for r in ours if r["model"] == "auto" and r["score"] is not None
                and not r["metric_mismatch"]]
        best_ref = max(refs, key=lambda r: r["score"])
        diff = 100 * (max(auto) - best_ref["score"]) if auto else None
        if diff is not None:
            diffs.append(diff)
        report["tables"][name] = {"task": t["task"], "metric": metric, "n_train": len(t["y_train"]),
                                  "n_test": len(t["y_test"]), "n_features": len(t["features"]),
                                  "project": ours, "references": refs,
                                  "best_reference": best_ref["engine"],
                                  "auto_minus_best_reference_points": diff}
        print(f"\n### {name} ({t['task']}, test {metric}; {len(t['y_train'])} train / "
              f"{len(t['y_test'])} test rows, {len(t['features'])} features)\n")
        print(f"| model | {metric} | fit s | predict µs/row | notes |")
        print("|---|---|---|---|---|")
        for r in ours + refs:
            print(f"| {r['engine']} | {fmt(r['score'], 4)} | {fmt(r['fit_seconds'])} "
                  f"| {fmt(r['predict_us_per_row'])} | {notes_of(r)} |")

    mean = statistics.mean(diffs) if diffs else None
    report["mean_auto_minus_best_reference_points"] = mean
    print("\n### auto − best reference (points: 100 × accuracy or R² difference)\n")
    for name in SMALL:
        d = report["tables"][name]
        print(f"- {name}: auto − best reference ({d['best_reference']}) = "
              f"{fmt(d['auto_minus_best_reference_points'], 2)} points")
    print(f"- mean over {len(diffs)} of {len(SMALL)} tables: {fmt(mean, 2)} points")

    t = load_table(out_dir, LARGE)
    ours = project_rows(rust, LARGE, ["gbm"])
    refs = fit_large(t, versions)
    report["large"] = {"n_train": len(t["y_train"]), "n_test": len(t["y_test"]),
                       "n_features": len(t["features"]), "project": ours, "references": refs}
    print(f"\n### large: fit time ({len(t['y_train'])} train / {len(t['y_test'])} test rows, "
          f"{len(t['features'])} features, binary)\n")
    print("| model | fit s | accuracy | predict µs/row (1 row, median of 200) "
          "| predict µs/row (test set, best of 3) | notes |")
    print("|---|---|---|---|---|---|")
    for r in ours + refs:
        print(f"| {r['engine']} | {fmt(r['fit_seconds'])} | {fmt(r['score'], 4)} "
              f"| {fmt(r.get('predict_us_single_row'))} | {fmt(r['predict_us_per_row'])} "
              f"| {notes_of(r)} |")

    t = load_table(out_dir, "breast_cancer")
    mlp = mlp_epoch(t)
    ours = [r for r in rust if r.get("model") == "mlp_epoch"] or [{"model": "mlp_epoch"}]
    report["mlp_epoch"] = {"project": ours, "scikit-learn": mlp}
    print(f"\n### one MLP epoch: breast_cancer standardized, {mlp['n_train']} train rows, "
          "(64, 32), Adam lr 0.001, batch 32\n")
    print("| model | s / epoch | test accuracy after 1 epoch | notes |")
    print("|---|---|---|---|")
    for r in ours:
        print(f"| this project: mlp_epoch | {fmt(r.get('fit_seconds'), 4)} "
              f"| {fmt(r.get('score'), 4)} | {notes_of(r)} |")
    print(f"| scikit-learn {versions['scikit-learn']} MLPClassifier (max_iter=1, median of 5) "
          f"| {fmt(mlp['seconds_per_epoch'], 4)} | {fmt(mlp['test_accuracy_after_1_epoch'], 4)} "
          "| includes initialisation |")

    report["seconds"] = time.perf_counter() - started
    report["load_average_start_end"] = [load_start, os.getloadavg()[0]]
    with open(f"{out_dir}/compare.json", "w") as f:
        json.dump(report, f, indent=1, default=str)
    print(f"\ncompare took {report['seconds']:.1f} s (1-minute load average {load_start:.2f} at "
          f"the start, {report['load_average_start_end'][1]:.2f} at the end: timings are only "
          f"comparable on an otherwise idle machine); written to {out_dir}/compare.json")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="write the tables and their splits")
    pp.add_argument("out_dir")
    pp.add_argument("--seed", type=int, default=0)
    pc = sub.add_parser("compare", help="fit the references and print the comparison")
    pc.add_argument("out_dir")
    pc.add_argument("results_jsonl")
    pc.add_argument("--budget", type=float, required=True, help="FLAML time budget, seconds")
    a = p.parse_args()
    if a.cmd == "prepare":
        prepare(a.out_dir, a.seed)
    else:
        compare(a.out_dir, a.results_jsonl, a.budget)


if __name__ == "__main__":
    main()
