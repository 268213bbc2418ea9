"""This project's ONNX exports beside scikit-learn's (skl2onnx) and LightGBM's (onnxmltools)
exports of the same kinds of model, on the same rows, all run by onnxruntime.

    bench/run export

or by hand, with the bench virtualenv (numpy, scikit-learn, lightgbm, onnxruntime, onnx,
skl2onnx, onnxmltools):

    .venv/bench/bin/python bench/tabular_compare.py prepare OUT_DIR
    <Rust `export` bench binary> OUT_DIR > OUT_DIR/export.jsonl
    .venv/bench/bin/python bench/export_compare.py OUT_DIR OUT_DIR/export.jsonl

For each table (breast_cancer, wine, diabetes) and family, the Rust side reports its export
time (median of 20 `training::onnx::export` calls, in process) and file size, and writes the
file and `predict`'s answers on the test rows. This script:
  - runs the file in onnxruntime on the test rows (one float matrix: every feature of these
    tables is a number) and reports the largest difference from `predict` (probabilities:
    absolute; values: relative to max(1, |value|));
  - fits the reference on the same train rows and converts it, timing the conversion (median
    of 5 `to_onnx` / `convert_lightgbm` calls) and its size: logistic_regression and linear:
    Pipeline(SimpleImputer, StandardScaler, LogisticRegression / LinearRegression); mlp:
    the same with MLPClassifier / MLPRegressor((64, 32), max_iter=30); gbm: LightGBM with 100
    rounds, learning rate 0.1, max_depth 6, num_leaves 63 (forust's depth-wise trees of depth
    6 have at most 64 leaves; onnxmltools converts to opset 15 at most); baseline: no converter has DummyClassifier, so none;
    classifiers without ZipMap (a plain probability tensor, as this project's);
  - times both files in onnxruntime (one intra-op thread, default graph optimizations): one
    row (the lowest of 3 medians of 300 calls) and the whole test set (µs per row, best of 5).
"""
import json
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tabular_compare import load_table  # noqa: E402


def median_ms(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def latency(data, x):
    """(one-row µs, whole-set µs per row) of an ONNX file in onnxruntime."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    one = x[:1]
    session.run(None, {name: one})
    single = min(median_ms(lambda: session.run(None, {name: one}), 300) for _ in range(3)) * 1e3
    whole = min(median_ms(lambda: session.run(None, {name: x}), 1) for _ in range(5))
    return single, whole * 1e3 / len(x), session


def reference(table, family):
    """(converter name, fitted model, convert function) or None."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classify = table["task"] == "classification"
    x = table["x_train"].astype(np.float32)
    if family in ("logistic_regression", "linear", "mlp"):
        from skl2onnx import to_onnx
        if family == "mlp":
            head = (MLPClassifier if classify else MLPRegressor)(
                hidden_layer_sizes=(64, 32), max_iter=30, random_state=0)
        else:
            head = LogisticRegression(max_iter=1000) if classify else LinearRegression()
        model = make_pipeline(SimpleImputer(), StandardScaler(), head)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, table["y_train"])
        options = {id(model): {"zipmap": False}} if classify else None
        return "skl2onnx", lambda: to_onnx(model, x[:1], options=options,
                                           target_opset={"": 17, "ai.onnx.ml": 3})
    if family == "gbm":
        import lightgbm
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType
        cls = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
        model = cls(n_estimators=100, learning_rate=0.1, max_depth=6, num_leaves=63,
                    n_jobs=2, verbose=-1, random_state=0)
        model.fit(x, table["y_train"])
        types = [("input", FloatTensorType([None, x.shape[1]]))]
        kw = {"zipmap": False} if classify else {}
        return "onnxmltools", lambda: convert_lightgbm(model, initial_types=types,
                                                       target_opset=15, **kw)
    return None


def our_difference(session, x, expected, classes):
    out = session.run(None, {"input": x})
    worst = 0.0
    if classes:
        probabilities = out[1]
        for r, p in enumerate(expected):
            for k, c in enumerate(classes):
                worst = max(worst, abs(float(probabilities[r, k]) - p["probabilities"][c]))
    else:
        for r, p in enumerate(expected):
            worst = max(worst, abs(out[0][r, 0] - p["value"]) / max(1.0, abs(p["value"])))
    return worst


def versions():
    import onnx
    import sklearn
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scikit-learn": sklearn.__version__, "onnxruntime": ort.__version__,
         "onnx": onnx.__version__}
    for mod in ("skl2onnx", "onnxmltools", "lightgbm"):
        v[mod] = __import__(mod).__version__
    return v


def fmt(v, digits):
    return "—" if v is None else f"{v:.{digits}f}"


def main(out_dir, results_path):
    with open(results_path) as f:
        ours = [json.loads(line) for line in f if line.strip()]
    tables, rows = {}, []
    for r in ours:
        name = r["table"]
        t = tables.setdefault(name, load_table(out_dir, name))
        x = t["x_test"].astype(np.float32)
        with open(r["file"], "rb") as f:
            data = f.read()
        with open(r["predict"]) as f:
            expected = json.load(f)
        single, bulk, session = latency(data, x)
        row = {"table": name, "family": r["family"], "export_ms": r["export_ms"],
               "bytes": r["bytes"], "ort_single_us": single, "ort_us_per_row": bulk,
               "max_difference_from_predict": our_difference(session, x, expected, t["labels"]),
               "reference": None}
        ref = reference(t, r["family"])
        if ref is not None:
            converter, convert = ref
            proto = convert()
            ref_data = proto.SerializeToString()
            ms = median_ms(convert, 5)
            ref_single, ref_bulk, _ = latency(ref_data, x)
            row["reference"] = {"converter": converter, "export_ms": ms, "bytes": len(ref_data),
                                "ort_single_us": ref_single, "ort_us_per_row": ref_bulk}
        rows.append(row)

    print("| table | family | export ms | bytes | ORT 1 row µs | ORT µs/row (test set) "
          "| max diff vs predict | reference | ref export ms | ref bytes | ref ORT 1 row µs "
          "| ref ORT µs/row |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = r["reference"] or {}
        print(f"| {r['table']} | {r['family']} | {r['export_ms']:.2f} | {r['bytes']:,} "
              f"| {r['ort_single_us']:.1f} | {r['ort_us_per_row']:.2f} "
              f"| {r['max_difference_from_predict']:.1e} | {ref.get('converter', '—')} "
              f"| {fmt(ref.get('export_ms'), 1)} "
              f"| {'—' if not ref else format(ref['bytes'], ',')} "
              f"| {fmt(ref.get('ort_single_us'), 1)} | {fmt(ref.get('ort_us_per_row'), 2)} |")
    report = {"versions": versions(), "rows": rows, "cpus": os.cpu_count()}
    with open(os.path.join(out_dir, "export_report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report["versions"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
