"""Peak memory of training and serving, measured beside the estimate the API refuses by.

Usage: memory_sweep.py MEMORY_BINARY
Runs `memory train` and `memory predict` (bench/src/bin/memory.rs) once per configuration,
each in its own process, and prints a Markdown table: the configuration, the parameter
count, the measured peak resident set (VmHWM) and the estimate of
engines/analysis/src/footprint.rs, in MiB, and estimate / measured.
"""
import json
import subprocess
import sys
import tempfile

binary = sys.argv[1]
# hidden layers, rows, features, batch, optimizer
CONFIGS = [
    ("", 200, 10, 32, "adam"),
    ("1024,1024", 200, 10, 32, "adam"),
    ("1024,1024", 200, 10, 32, "sgd"),
    ("2048,2048,2048", 200, 10, 32, "adam"),
    ("2048,2048,2048", 200, 10, 32, "sgd"),
    ("4096,4096,4096,4096", 200, 10, 32, "adam"),
    ("4096,4096,4096,4096,4096,4096,4096,4096", 1000, 10, 32, "adam"),
    ("4096,4096,4096,4096,4096,4096,4096,4096", 1000, 10, 32, "sgd"),
    ("64", 100000, 10, 32, "adam"),
    ("64", 400000, 10, 32, "adam"),
    ("64", 100000, 40, 32, "adam"),
    ("1024", 20000, 10, 4096, "adam"),
    ("1024", 20000, 10, 16384, "adam"),
]
MIB = 1024 * 1024


def run(*args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


print("| hidden | rows | features | batch | optimizer | parameters | train MiB | estimate | ratio | predict 1,000 rows MiB | estimate | ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
with tempfile.TemporaryDirectory() as tmp:
    artifact = f"{tmp}/model.safetensors"
    for hidden, rows, features, batch, optimizer in CONFIGS:
        t = run("train", hidden, str(rows), str(features), str(batch), optimizer, artifact)
        p = run("predict", artifact, "1000")
        cells = [
            hidden.replace(",", "×") if hidden else "(logistic)", f"{rows:,}", features, batch, optimizer,
            f"{t['parameters']:,}",
            f"{t['peak_rss_bytes'] / MIB:,.1f}", f"{t['estimated_bytes'] / MIB:,.1f}",
            f"{t['estimated_bytes'] / t['peak_rss_bytes']:.2f}",
            f"{p['peak_rss_bytes'] / MIB:,.1f}", f"{p['estimated_bytes'] / MIB:,.1f}",
            f"{p['estimated_bytes'] / p['peak_rss_bytes']:.2f}",
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
