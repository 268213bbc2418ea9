"""What a checkpoint costs in PyTorch (CPU) beside `bench/src/bin/checkpoints.rs`, for
`bench/run checkpoints`: the same MLP 64-32 on 80,000 training rows of 10 features (batch 256
and 32), the digits CNN and `small_cnn` on 1,600 training images of 32x32x3 (batch 32), each
with Adam. A save is `torch.save` of everything a resume needs (the model's and the
optimizer's state_dict, the RNG state, the epoch and the epoch's order) to a file, flushed and
fsynced; a resume is `torch.load` and both `load_state_dict` calls. Medians of 3 saves, one
after each epoch. Prints one table row per workload, beside the Rust side's line.

    python bench/checkpoints_compare.py RESULTS_JSONL OUT_DIR
"""
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(1)
here = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("networks_compare", here / "networks_compare.py")
nets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nets)


def workloads():
    rng = np.random.default_rng(3)
    for batch in (256, 32):
        x = rng.uniform(-1, 1, (80_000, 10)).astype(np.float32)
        y = (x @ rng.normal(size=10) > 0).astype(np.int64)
        mlp = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                            nn.Linear(32, 2))
        yield f"mlp_64_32_100k_batch_{batch}", mlp, torch.tensor(x), torch.tensor(y), batch
    for name, model, x, y in nets.workloads():
        if name in ("cnn_digits", "small_cnn_32x32x3"):
            n = int(len(y) * 0.8)
            yield name, model, x[:n], y[:n], 32


def main():
    results = {}
    for line in open(sys.argv[1]):
        line = line.strip()
        if line.startswith("{") and '"workload"' in line:
            r = json.loads(line)
            results[r["workload"]] = r
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    print("| workload | epoch (ours) | save (ours) | share (ours) | resume (ours) "
          "| epoch (PyTorch) | save (PyTorch) | share (PyTorch) | resume (PyTorch) | bytes (ours / PyTorch) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, model, x, y, batch in workloads():
        opt = torch.optim.Adam(model.parameters(), lr=0.005)
        loss_fn = nn.CrossEntropyLoss()
        epochs, saves = [], []
        path = out / f"{name}.pt"
        for epoch in range(3):
            started = time.perf_counter()
            model.train()
            order = torch.randperm(len(y))
            for i in range(0, len(y), batch):
                idx = order[i:i + batch]
                opt.zero_grad()
                loss_fn(model(x[idx]), y[idx]).backward()
                opt.step()
            epochs.append(time.perf_counter() - started)
            started = time.perf_counter()
            with open(path, "wb") as f:
                torch.save({"model": model.state_dict(), "optim": opt.state_dict(),
                            "rng": torch.get_rng_state(), "epoch": epoch, "order": order}, f)
                f.flush()
                os.fsync(f.fileno())
            saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        state = torch.load(path, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        torch.set_rng_state(state["rng"])
        resume = time.perf_counter() - started
        epoch, save = statistics.median(epochs), statistics.median(saves)
        ours = results.get(name, {})
        print(f"| {name} | {ours.get('epoch_seconds_median', float('nan')):.4f} s "
              f"| {ours.get('save_seconds_median', float('nan')) * 1000:.2f} ms "
              f"| {ours.get('save_share_of_epoch', float('nan')) * 100:.2f} % "
              f"| {ours.get('engine_resume_seconds', float('nan')) * 1000:.2f} ms "
              f"| {epoch:.4f} s | {save * 1000:.2f} ms | {save / epoch * 100:.2f} % "
              f"| {resume * 1000:.2f} ms | {ours.get('checkpoint_bytes', 0):,} / {path.stat().st_size:,} |")
    for name, r in results.items():
        if "resume_seconds" in r:
            print(f"\n{name}: {r['invocations']} invocations, {r['checkpoints']} checkpoints, "
                  f"hand-on to first batch {r['resume_seconds']} s (median {r['resume_seconds_median']} s)")


if __name__ == "__main__":
    main()
