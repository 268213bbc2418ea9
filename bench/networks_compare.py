"""Epoch time of the same networks in PyTorch (CPU) beside `bench/src/bin/networks.rs`, for
`bench/run networks`: the digits CNN on scikit-learn's digits (the pixels the fixture zip
holds), `small_cnn` on 2,000 random 32x32x3 images, an LSTM over 30 steps of 4 features and
an embedding network over 40 tokens, with the same layers, sizes, split (80 %), batch (32),
optimizer (Adam, lr 0.005) and epochs. The data of the last three is random in both, of the
same shapes. Prints one table row per workload.

    python bench/networks_compare.py RESULTS_JSONL EPOCHS [DOCSTRINGS_IDS_JSON]

With the ids file, also the textcnn preset on the docstrings fixture, on the very ids the
Rust side made.
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(1)


class LastStep(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1]


class MeanTokens(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)

    def forward(self, x):
        return self.embedding(x).mean(1)


def small_cnn(channels, side, classes):
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * (side // 4) ** 2, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, classes))


class Block(nn.Module):
    """He et al.'s basic block with the option-A shortcut (subsample, zero channels)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        s = x[:, :, ::self.stride, ::self.stride]
        if self.extra:
            s = nn.functional.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return torch.relu(y + s)


def resnet8(classes):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


def workloads():
    rng = np.random.default_rng(2)
    d = load_digits()
    x = np.round(d.images * 255 / 16) / 255.0
    x = ((x - x.mean()) / x.std()).astype(np.float32)[:, None]
    yield ("cnn_digits", nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, 10)), torch.tensor(x),
        torch.tensor(d.target))
    n = 2000
    yield ("small_cnn_32x32x3", small_cnn(3, 32, 10),
           torch.tensor(rng.random((n, 3, 32, 32), dtype=np.float32)),
           torch.tensor(np.arange(n) % 10))
    yield ("resnet8_32x32x3", resnet8(10),
           torch.tensor(rng.random((n, 3, 32, 32), dtype=np.float32)),
           torch.tensor(np.arange(n) % 10))
    seqs = rng.uniform(-1, 1, (n, 30, 4)).astype(np.float32)
    yield ("lstm_30x4", nn.Sequential(LastStep(4, 32), nn.Linear(32, 2)),
           torch.tensor(seqs), torch.tensor((seqs[:, :, 0].sum(1) > 0).astype(np.int64)))
    tokens = rng.integers(0, 500, (n, 40))
    yield ("embedding_40", nn.Sequential(MeanTokens(500, 32), nn.Linear(32, 2)),
           torch.tensor(tokens), torch.tensor(((tokens < 250).sum(1) * 2 > 40).astype(np.int64)))


class TextCNN(nn.Module):
    """The textcnn preset: embedding, a width-3 Conv1d with same padding and ReLU, max over
    time, dropout, the output."""

    def __init__(self, vocab, dim, filters, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, filters, 3, padding=1)
        self.dropout = nn.Dropout(0.5)
        self.out = nn.Linear(filters, classes)

    def forward(self, x):
        h = torch.relu(self.conv(self.embedding(x).transpose(1, 2)))
        return self.out(self.dropout(h.max(2).values))


def text_workload(path):
    """The docstrings as the Rust side encoded them (bench/src/bin/networks.rs)."""
    d = json.load(open(path))
    ids = torch.tensor(d["ids"], dtype=torch.int64).reshape(-1, d["len"])
    return ("textcnn_docstrings", TextCNN(20000, 64, 128, d["classes"]), ids,
            torch.tensor(d["labels"], dtype=torch.int64))


def run(model, x, y, epochs):
    n = len(y)
    order = torch.randperm(n)
    train, val = order[: int(n * 0.8)], order[int(n * 0.8):]
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        perm = train[torch.randperm(len(train))]
        for i in range(0, len(perm), 32):
            b = perm[i:i + 32]
            opt.zero_grad()
            loss = loss_fn(model(x[b]), y[b])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x[val]).argmax(1) == y[val]).float().mean().item()
        times.append(time.perf_counter() - started)
    return statistics.median(times), accuracy


def main():
    ours = {}
    for line in open(sys.argv[1]):
        r = json.loads(line)
        ours[r["workload"]] = r
    epochs = int(sys.argv[2])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {epochs} epochs")
    print("| workload | params | MACs/sample | this project: epoch s | PyTorch: epoch s | ratio | "
          "images/s (ours / torch) | val acc (ours / torch) | implied MAC/s (ours) |")
    print("|---|---|---|---|---|---|---|---|---|")
    loads = list(workloads())
    if len(sys.argv) > 3:
        loads.append(text_workload(sys.argv[3]))
    for name, model, x, y in loads:
        torch_epoch, torch_acc = run(model, x, y, epochs)
        params = sum(p.numel() for p in model.parameters())
        o = ours[name]
        assert params == o["parameters"], (name, params, o["parameters"])
        print(f"| {name} | {params:,} | {o['macs_per_sample']:,} | {o['epoch_seconds_median']:.3f} | "
              f"{torch_epoch:.3f} | {o['epoch_seconds_median'] / torch_epoch:.2f}x | "
              f"{o['train_samples'] / o['epoch_seconds_median']:.0f} / {len(y) * 0.8 / torch_epoch:.0f} | "
              f"{o['val_accuracy']:.3f} / {torch_acc:.3f} | {o['implied_macs_per_second']:.2e} |")
    peak = max(r["peak_rss_bytes"] for r in ours.values())
    print(f"peak RSS: this project {peak / 1e6:.0f} MB (all runs in one process); PyTorch "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")


if __name__ == "__main__":
    main()
