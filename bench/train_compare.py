"""scikit-learn and PyTorch beside this project's trainer, on the exact matrices it trained on.

Usage: train_compare.py OUT_DIR RESULTS.jsonl
Reads OUT_DIR/{dataset}_{train,val}.csv (encoded features, label last) written by the Rust
`training` benchmark, and its results (JSON lines), trains the same models with the same
epochs, batch sizes, optimizer (Adam, lr 0.01, no weight decay) and prints a Markdown table.
Seconds per epoch include the validation pass, as the Rust numbers do.
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

out_dir, results_path = sys.argv[1], sys.argv[2]
rust = [json.loads(line) for line in open(results_path) if line.strip()]
rows = list(rust)

try:
    import torch
    torch.manual_seed(7)
    have_torch = True
except Exception as e:  # noqa: BLE001 - report and go on without it
    print(f"PyTorch not available: {e}", file=sys.stderr)
    have_torch = False


def load(name):
    train = np.loadtxt(f"{out_dir}/{name}_train.csv", delimiter=",", dtype=np.float32)
    val = np.loadtxt(f"{out_dir}/{name}_val.csv", delimiter=",", dtype=np.float32)
    return train[:, :-1], train[:, -1].astype(np.int64), val[:, :-1], val[:, -1].astype(np.int64)


def torch_run(x, y, xv, yv, hidden, batch, epochs):
    layers, width = [], x.shape[1]
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, int(max(y.max(), yv.max())) + 1))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt, xvt, yvt = map(torch.from_numpy, (x, y, xv, yv))
    g = torch.Generator().manual_seed(7)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xvt).argmax(1) == yvt).float().mean().item()
        times.append(time.perf_counter() - t0)
    return acc, sum(times) / len(times)


for name in sorted({r["dataset"] for r in rust}):
    x, y, xv, yv = load(name)
    for r in [r for r in rust if r["dataset"] == name]:
        hidden = () if r["model"] == "logistic_regression" else (64, 32)
        batch, epochs = r["batch_size"], r["epochs"]
        t0 = time.perf_counter()
        if hidden:
            clf = MLPClassifier(hidden_layer_sizes=hidden, solver="adam", learning_rate_init=0.01,
                                batch_size=batch, max_iter=epochs, alpha=0.0, shuffle=True,
                                random_state=7, tol=0.0, n_iter_no_change=epochs + 1)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(x, y)
            per_epoch = (time.perf_counter() - t0) / epochs
            kind = "scikit-learn MLPClassifier (adam)"
        else:
            # scikit-learn's logistic regression is not epoch-based: lbfgs to convergence,
            # without a penalty to match; its time is the whole fit.
            clf = LogisticRegression(penalty=None, max_iter=5000)
            clf.fit(x, y)
            per_epoch = None
            kind = "scikit-learn LogisticRegression (lbfgs)"
        total = time.perf_counter() - t0
        rows.append({"engine": kind, "dataset": name, "model": r["model"], "batch_size": batch,
                     "epochs": epochs, "val_accuracy": float((clf.predict(xv) == yv).mean()),
                     "seconds_per_epoch": per_epoch, "total_seconds": total})
        if have_torch:
            acc, per_epoch = torch_run(x, y, xv, yv, hidden, batch, epochs)
            rows.append({"engine": f"PyTorch {torch.__version__} (Adam)", "dataset": name,
                         "model": r["model"], "batch_size": batch, "epochs": epochs,
                         "val_accuracy": acc, "seconds_per_epoch": per_epoch,
                         "total_seconds": per_epoch * epochs})

print("| dataset | model | batch | epochs | engine | val accuracy | s / epoch |")
print("|---|---|---|---|---|---|---|")
key = lambda r: (r["dataset"], r["model"], r["batch_size"])
for r in sorted(rows, key=key):
    spe = "—" if r["seconds_per_epoch"] is None else f"{r['seconds_per_epoch']:.4f}"
    print(f"| {r['dataset']} | {r['model']} | {r['batch_size']} | {r['epochs']} | {r['engine']} "
          f"| {r['val_accuracy']:.4f} | {spe} |")
