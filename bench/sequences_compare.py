"""Sequential synthetic data beside SDV's PARSynthesizer, side by side in one run.

Two sequential tables:
- statsmodels' Grunfeld investment panel (11 firms x 20 years: invest, value, capital; the
  firm is the entity, the year the index), real data shipped in the package;
- a simulated panel (seeded numpy): 150 stores, 10 to 59 daily rows each, a `region` context
  column (north stores have longer histories) and two AR(1) series, for time and memory at a
  larger size.

Each side fits the table and generates about as many rows (PAR: as many sequences as the table
has entities; this project: as many rows). Each side runs in its own process, timed from
outside and reporting its own peak resident memory (VmHWM). Both samples are
scored by the same formulas: this project's sequence quality (length similarity, lag 1-5
autocorrelation similarity) and the mean of SDMetrics' column shapes (KSComplement /
TVComplement, keys and index left out).

usage: sequences_compare.py <path to the release `synth` benchmark binary> [par epochs]
Runs in .venv/par (sdv with deepecho and torch, sdmetrics, statsmodels).
"""
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench-sequences")


def par_child(real_csv, key, index, context, out_csv, epochs):
    """Runs in a child process: fit PAR, sample, write CSV, print the timings."""
    from sdv.metadata import Metadata
    from sdv.sequential import PARSynthesizer

    data = pd.read_csv(real_csv)
    if index and data[index].dtype == object:
        data[index] = pd.to_datetime(data[index])
    metadata = Metadata.detect_from_dataframes({"t": data})
    metadata.update_column(column_name=key, sdtype="id", table_name="t")
    metadata.set_sequence_key(column_name=key, table_name="t")
    if index:
        metadata.set_sequence_index(column_name=index, table_name="t")
    started = time.perf_counter()
    par = PARSynthesizer(metadata, context_columns=context, epochs=epochs, verbose=False)
    par.fit({"t": data})
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    sample = par.sample_sequences(num_sequences=data[key].nunique())
    if isinstance(sample, dict):  # SDV 2 answers {table: frame}
        sample = sample["t"]
    sample_s = time.perf_counter() - started
    sample = sample.sort_values([key, index] if index else [key], kind="stable")
    if index and np.issubdtype(sample[index].dtype, np.datetime64):
        sample[index] = sample[index].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    sample.to_csv(out_csv, index=False)
    print(json.dumps({"fit_ms": fit_s * 1000, "sample_ms": sample_s * 1000,
                      "total_ms": (fit_s + sample_s) * 1000, "rows": len(sample), "peak_mib": peak_mib()}))


def peak_mib():
    """This process's peak resident memory since exec (VmHWM), in MiB."""
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024.0


def child(args):
    """Runs `args`, returning its JSON output (which carries its own peak memory: VmHWM counts
    from exec, where a fork's ru_maxrss would include this process's pages) and wall time."""
    started = time.perf_counter()
    out = subprocess.check_output(args)
    wall = time.perf_counter() - started
    return json.loads(out.decode().strip().splitlines()[-1]), wall


def column_shapes(real, sample, key, index):
    from sdmetrics.reports.single_table import QualityReport
    from sdv.metadata import Metadata

    cols = [c for c in real.columns if c not in (key, index)]
    meta = Metadata.detect_from_dataframes({"t": real[cols]}).to_dict()["tables"]["t"]
    report = QualityReport()
    report.generate(real[cols], sample[cols], meta, verbose=False)
    return report.get_properties().set_index("Property")["Score"].to_dict().get("Column Shapes")


def tables():
    import statsmodels.api as sm

    grunfeld = sm.datasets.grunfeld.load_pandas().data
    grunfeld["year"] = grunfeld["year"].astype(int)
    grunfeld = grunfeld[["firm", "year", "invest", "value", "capital"]]
    rng = np.random.default_rng(7)
    rows = []
    for s in range(150):
        north = s % 2 == 0
        n = int(rng.integers(30, 60) if north else rng.integers(10, 30))
        a = b = 0.0
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(s % 20))
        for t in range(n):
            a = 0.9 * a + np.sqrt(1 - 0.81) * rng.standard_normal()
            b = 0.5 * b + np.sqrt(1 - 0.25) * rng.standard_normal()
            rows.append({"store": f"S{s:03d}", "date": (day + pd.Timedelta(days=t)).strftime("%Y-%m-%d"),
                         "region": "north" if north else "south",
                         "sales": round(200 + 30 * a, 2), "visits": round(50 + 10 * b + 5 * a, 1)})
    panel = pd.DataFrame(rows)
    return [("statsmodels grunfeld", grunfeld, "firm", "year", []),
            ("simulated store panel", panel, "store", "date", ["region"])]


def main():
    synth, epochs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 128
    os.makedirs(OUT, exist_ok=True)
    results = []
    for name, data, key, index, context in tables():
        slug = name.split()[-1]
        real_csv = os.path.join(OUT, f"{slug}.csv")
        data.to_csv(real_csv, index=False)
        ours_csv, par_csv = os.path.join(OUT, f"{slug}_project.csv"), os.path.join(OUT, f"{slug}_par.csv")
        ours, ours_wall = child([synth, "sequences", real_csv, key, index, str(len(data)), ours_csv])
        par, par_wall = child([sys.executable, __file__, "--par", real_csv, key, index,
                                         json.dumps(context), par_csv, str(epochs)])
        scores = {}
        for side, path in (("project", ours_csv), ("par", par_csv)):
            score = json.loads(subprocess.check_output([synth, "sequences-score", real_csv, path, key, index]))
            sample = pd.read_csv(path)
            scores[side] = {"sequence_score": score["sequence"]["score"],
                            "length_similarity": score["sequence"]["length_similarity"],
                            "autocorrelation_similarity": score["sequence"]["autocorrelation_similarity"],
                            "sdmetrics_column_shapes": column_shapes(data, sample, key, index),
                            "entities": score["sequence"]["synthetic_entities"], "rows": len(sample)}
        results.append({
            "table": name, "rows": len(data), "entities": int(data[key].nunique()),
            "par": {"epochs": epochs, "fit_ms": par["fit_ms"], "sample_ms": par["sample_ms"],
                    "wall_s": par_wall, "peak_mib": par["peak_mib"], **scores["par"]},
            "project": {"fit_ms": ours["fit_ms"], "sample_ms": ours["sample_ms"], "wall_s": ours_wall,
                        "peak_mib": ours["peak_mib"], **scores["project"]},
            "speed_ratio_par_over_project": par["total_ms"] / ours["total_ms"],
        })
    print(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    if sys.argv[1] == "--par":
        _, _, real_csv, key, index, context, out_csv, epochs = sys.argv
        par_child(real_csv, key, index, json.loads(context), out_csv, int(epochs))
    else:
        main()
