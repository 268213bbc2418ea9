"""Every family's ONNX export, run by onnxruntime and checked by onnx's own checker, against
`predict` on the same rows, through a running service (MLAAS_BASE_URL); and the README's
snippet, run as written.

    MLAAS_BASE_URL=http://127.0.0.1:5000 python -m unittest clients/python/tests/test_onnx.py
"""
import math
import os
import pathlib
import re
import unittest

import httpx
import numpy as np
import onnx
import onnxruntime as ort

from mlaas import MLTrainingAPI

BASE = os.environ.get("MLAAS_BASE_URL", "http://localhost:5000")
README = pathlib.Path(__file__).resolve().parents[3] / "README.md"
DTYPES = {"float": np.float32, "double": np.float64, "string": object}
COLOURS = ["red", "green", "blue", "amber"]


def mixed_csv(rows, regression, binary=False):
    """Every column kind, with gaps: x numeric, n integer, at a datetime, flag boolean,
    colour categorical; the target three classes (two when `binary`) or a number."""
    lines = ["x,n,at,flag,colour,target"]
    for i in range(rows):
        x = ((i * 37) % 101) / 25.0 - 2.0
        n = (i * 13) % 17
        flag = i % 3 == 0
        colour = COLOURS[(i * 7) % 4]
        effect = {"red": 1.5, "blue": -1.0}.get(colour, 0.0)
        score = x + (1.0 if flag else -1.0) + effect + n * 0.05
        if regression:
            target = f"{3 * score + ((i * 29) % 13) * 0.1:.4f}"
        elif binary:
            target = "low" if score < 0.3 else "high"
        else:
            target = "low" if score < -0.5 else "mid" if score < 1.0 else "high"
        at = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        lines.append(",".join([
            "" if i % 7 == 3 else f"{x:.4f}", str(n), at, "true" if flag else "false",
            "" if i % 11 == 5 else colour, target]))
    return "\n".join(lines) + "\n"


def request_rows():
    """Rows as a client sends them: values of each kind, an unseen colour, gaps."""
    rows = []
    for i in range(40):
        rows.append({"x": None if i % 9 == 0 else (i - 20) / 8.0, "n": i % 17,
                     "at": f"2024-0{1 + i % 9}-1{i % 10}T0{i % 10}:30:00Z",
                     "flag": i % 2 == 0, "colour": (COLOURS + ["purple", None])[i % 6]})
    return rows


def unix_seconds(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def feeds(signature, rows):
    """The session's inputs for `rows`: a missing number is NaN, a missing category ""."""
    out = {}
    for i in signature["inputs"]:
        if i.get("columns"):
            out[i["name"]] = np.array(
                [[np.nan if r.get(c) is None else r[c] for c in i["columns"]] for r in rows],
                dtype=np.float32)
            continue
        values = []
        for r in rows:
            v = r.get(i["name"])
            if i["type"] == "string":
                values.append("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            elif v is None:
                values.append(np.nan)
            elif isinstance(v, str):
                values.append(unix_seconds(v))
            else:
                values.append(v)
        out[i["name"]] = np.array(values, dtype=DTYPES[i["type"]]).reshape(len(rows), 1)
    return out


class OnnxExports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = MLTrainingAPI(BASE)
        cls.classes = cls.api.upload_dataset(mixed_csv(400, False), name="onnx classes",
                                             target="target")["id"]
        cls.binary = cls.api.upload_dataset(mixed_csv(400, False, binary=True),
                                            name="onnx two classes", target="target")["id"]
        cls.values = cls.api.upload_dataset(mixed_csv(400, True), name="onnx values",
                                            target="target")["id"]

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def trained(self, dataset, task, architecture, **extra):
        accepted = self.api.train({"name": f"onnx {architecture}", "type": task,
                                   "architecture": architecture, "dataset": dataset, **extra},
                                  {"epochs": 15, "seed": 4})
        status = self.api.wait_for_training(accepted["model_id"], timeout=300, poll_seconds=0.3)
        self.assertEqual(status["status"], "completed", status.get("failure_reason"))
        return accepted["model_id"]

    def check(self, model_id, rows):
        record = self.api.get_model(model_id)
        signature = record["artifact"]["onnx"]
        data = self.api.download_model(model_id, "onnx")
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        self.assertEqual([i.name for i in session.get_inputs()],
                         [i["name"] for i in signature["inputs"]])
        self.assertEqual([o.name for o in session.get_outputs()],
                         [o["name"] for o in signature["outputs"]])
        got = session.run(None, feeds(signature, rows))
        want = self.api.predict(model_id, rows)["predictions"]
        family = record["artifact"]["family"]
        if record["artifact"]["task"] == "classification":
            labels, probabilities = got
            classes = record["artifact"]["classes"]
            self.assertEqual(probabilities.shape, (len(rows), len(classes)))
            for r, p in enumerate(want):
                self.assertEqual(labels[r], p["label"], f"{family} row {r}")
                for k, c in enumerate(classes):
                    self.assertLess(abs(float(probabilities[r, k]) - p["probabilities"][c]), 1e-5,
                                    f"{family} row {r} class {c}")
        else:
            (values,) = got
            self.assertEqual(values.dtype, np.float64)
            self.assertEqual(values.shape, (len(rows), 1))
            for r, p in enumerate(want):
                self.assertLessEqual(abs(values[r, 0] - p["value"]),
                                     1e-5 * max(1.0, abs(p["value"])), f"{family} row {r}")
        return signature

    def test_classifiers_answer_as_predict_does(self):
        rows = request_rows()
        for architecture, extra in [("logistic_regression", {}),
                                    ("mlp", {"hidden_layers": [16, 8]}),
                                    ("gbm", {"gbm": {"trees": 40, "max_depth": 4}})]:
            with self.subTest(architecture):
                sig = self.check(self.trained(self.classes, "classification", architecture,
                                              **extra), rows)
                self.assertEqual([(i["name"], i["type"]) for i in sig["inputs"]],
                                 [("x", "float"), ("n", "float"), ("at", "double"),
                                  ("flag", "string"), ("colour", "string")])

    def test_binary_classifiers_answer_as_predict_does(self):
        rows = request_rows()
        for architecture, extra in [("logistic_regression", {}),
                                    ("gbm", {"gbm": {"trees": 40, "max_depth": 4}})]:
            with self.subTest(architecture):
                self.check(self.trained(self.binary, "classification", architecture, **extra),
                           rows)

    def test_regressors_answer_as_predict_does(self):
        rows = request_rows()
        for architecture, extra in [("linear", {}), ("mlp", {"hidden_layers": [16]}),
                                    ("gbm", {"gbm": {"trees": 40, "max_depth": 4}})]:
            with self.subTest(architecture):
                self.check(self.trained(self.values, "regression", architecture, **extra), rows)

    def test_a_large_export_is_a_redirect_to_a_signed_url(self):
        # Deep regression trees on a noisy target (squared loss keeps splitting down to
        # single rows), so the file passes the dev server's 1 MiB inline limit.
        lines = ["a,b,c,y"]
        for i in range(4000):
            a, b, c = (i * 7919) % 1000 / 1000, (i * 104729) % 997 / 997, (i * 31) % 89 / 89
            noise = ((i * 2654435761) % 1000) / 1000 - 0.5
            lines.append(f"{a},{b},{c},{math.sin(12 * a) + b * c + noise:.5f}")
        dataset = self.api.upload_dataset("\n".join(lines) + "\n", name="deep", target="y")
        model_id = self.trained(dataset["id"], "regression", "gbm",
                                gbm={"trees": 150, "max_depth": 10, "learning_rate": 0.3})
        r = httpx.get(f"{BASE}/v1/models/{model_id}/download", params={"format": "onnx"})
        self.assertEqual(r.status_code, 302, f"{len(r.content)} bytes inline")
        self.assertGreater(len(self.api.download_model(model_id)), 1 << 20)
        rows = [{"a": i / 50, "b": (i % 7) / 7, "c": None if i % 5 == 0 else 0.5}
                for i in range(50)]
        sig = self.check(model_id, rows)
        self.assertEqual(sig["inputs"][0]["name"], "input")
        self.assertEqual(sig["inputs"][0]["columns"], ["a", "b", "c"])

    def test_the_readme_snippet_runs_as_written(self):
        model_id = self.trained(self.classes, "classification", "gbm",
                                gbm={"trees": 20, "max_depth": 3})
        text = README.read_text()
        snippet = re.search(r"<!-- onnx-snippet -->\n```python\n(.*?)```", text, re.S).group(1)
        row = {"x": 0.5, "n": 3, "at": unix_seconds("2024-06-01T00:00:00Z"), "flag": "true",
               "colour": "red"}
        scope = {"model_id": model_id, "row": row}
        snippet = snippet.replace("http://localhost:5000", BASE)
        exec(compile(snippet, "README.md", "exec"), scope)
        want = self.api.predict(model_id, [{**row, "at": "2024-06-01T00:00:00Z"}])
        self.assertEqual(scope["label"][0], want["predictions"][0]["label"])


if __name__ == "__main__":
    unittest.main()
