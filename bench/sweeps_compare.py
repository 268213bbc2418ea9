"""A sweep's wall time beside scikit-learn's GridSearchCV over the same grid.

    python bench/sweeps_compare.py prepare OUT_DIR
        writes OUT_DIR/digits.csv: scikit-learn's digits (1,797 rows, 64 pixel columns,
        target d0-d9)
    python bench/sweeps_compare.py compare OUT_DIR RESULTS.jsonl EPOCHS
        runs GridSearchCV(StandardScaler + MLPClassifier) over learning_rate_init
        [0.001, 0.003, 0.01] x hidden_layer_sizes [(64,), (128, 64)] on one stratified
        75/25 split, n_jobs 1, 2 and 3 (joblib's process pool), and prints both tools' wall
        times and speed-ups beside each other.
"""
import json
import os
import sys
import time

import numpy as np


def prepare(out_dir):
    from sklearn.datasets import load_digits

    os.makedirs(out_dir, exist_ok=True)
    d = load_digits()
    with open(f"{out_dir}/digits.csv", "w") as f:
        f.write(",".join([f"p{i}" for i in range(d.data.shape[1])] + ["target"]) + "\n")
        for x, y in zip(d.data, d.target):
            f.write(",".join(str(int(v)) for v in x) + f",d{int(y)}\n")


def sklearn_sweeps(out_dir, epochs):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = [line.rstrip("\n").split(",") for line in open(f"{out_dir}/digits.csv")][1:]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([r[-1] for r in rows])
    train, val = train_test_split(np.arange(len(x)), test_size=0.25, random_state=7, stratify=y)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        max_iter=epochs, batch_size=32, solver="adam", tol=0.0, n_iter_no_change=epochs + 1,
        random_state=7))
    grid = {"mlpclassifier__learning_rate_init": [0.001, 0.003, 0.01],
            "mlpclassifier__hidden_layer_sizes": [(64,), (128, 64)]}
    out = []
    for n_jobs in (1, 2, 3):
        search = GridSearchCV(pipe, grid, cv=[(train, val)], n_jobs=n_jobs, refit=False,
                              scoring="accuracy")
        t = time.perf_counter()
        search.fit(x, y)
        wall = time.perf_counter() - t
        best = int(np.argmax(search.cv_results_["mean_test_score"]))
        out.append({"n_jobs": n_jobs, "wall_seconds": wall,
                    "fit_seconds_sum": float(np.sum(search.cv_results_["mean_fit_time"])),
                    "best": search.cv_results_["params"][best],
                    "best_val_accuracy": float(search.cv_results_["mean_test_score"][best])})
    return out


def compare(out_dir, results, epochs):
    ours = [json.loads(line) for line in open(results) if line.strip()]
    theirs = sklearn_sweeps(out_dir, epochs)
    print(f"\n6 trials, {epochs} epochs each, digits (1,347 train / 450 validation rows)\n")
    print("| max_parallel / n_jobs | this API wall (s) | speed-up | sum of trials (s) | best val_accuracy "
          "| scikit-learn wall (s) | speed-up | sum of fits (s) | best val_accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o, s in zip(ours, theirs):
        print(f"| {o['max_parallel']} | {o['wall_seconds']:.2f} | "
              f"{ours[0]['wall_seconds'] / o['wall_seconds']:.2f}x | {o['trial_seconds_sum']:.2f} | "
              f"{o['best_val_accuracy']:.4f} | {s['wall_seconds']:.2f} | "
              f"{theirs[0]['wall_seconds'] / s['wall_seconds']:.2f}x | {s['fit_seconds_sum']:.2f} | "
              f"{s['best_val_accuracy']:.4f} |")
    print("\nbest settings: this API", ours[0]["best"], "; scikit-learn", theirs[0]["best"])
    print(json.dumps({"ours": ours, "sklearn": theirs}))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
