"""An image network through a running service (MLAAS_BASE_URL): scikit-learn's digits as an
ImageFolder zip, a small CNN trained on it, predictions from PNG files, and the dataset and
model files read with `safetensors.numpy` as users read them.

    MLAAS_BASE_URL=http://127.0.0.1:5000 python -m unittest clients/python/tests/test_networks.py
"""
import json
import os
import pathlib
import time
import unittest
import zipfile

import numpy as np
from safetensors.numpy import load
from safetensors import safe_open

from mlaas import MLTrainingAPI

BASE = os.environ.get("MLAAS_BASE_URL", "http://localhost:5000")
DIGITS = pathlib.Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "digits.zip"
CNN = {"layers": [
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "maxpool", "pool_size": 2},
    {"type": "flatten"},
    {"type": "output", "activation": "softmax"},
]}


class ImageNetworkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = MLTrainingAPI(BASE)
        cls.dataset = cls.api.upload_images(DIGITS.read_bytes(), name="digits")
        accepted = cls.api.train(
            {"name": "digits", "type": "image_classification", "architecture": CNN,
             "dataset": cls.dataset["id"]},
            {"epochs": 10, "learning_rate": 0.005, "seed": 3})
        cls.model_id = accepted["model_id"]
        deadline = time.time() + 600
        while time.time() < deadline:
            status = cls.api.training_status(cls.model_id)
            if status["status"] in ("completed", "failed", "stopped"):
                break
            time.sleep(1)
        cls.status = status

    def test_the_network_trains_and_predicts_png_files(self):
        self.assertEqual(self.status["status"], "completed", self.status)
        self.assertGreaterEqual(self.status["final_metrics"]["validation"]["accuracy"], 0.95)
        with zipfile.ZipFile(DIGITS) as z:
            names = z.namelist()[:30]
            pngs = [z.read(n) for n in names]
        answer = self.api.predict_images(self.model_id, pngs)
        labels = [p["label"] for p in answer["predictions"]]
        right = sum(label == name.split("/")[1] for label, name in zip(labels, names))
        self.assertGreaterEqual(right, 27, labels)

    def test_an_archive_goes_by_upload_url(self):
        # The path for files over the request limit: the dev server's signed PUT route here.
        dataset = self.api.upload_file(DIGITS, "application/zip", name="digits by url")
        self.assertEqual(dataset["rows"], 1797)
        self.assertEqual(dataset["images"]["classes"], self.dataset["images"]["classes"])

    def test_the_dataset_and_the_model_are_safetensors_files(self):
        images = load(self.api.download_dataset(self.dataset["id"], "safetensors"))
        self.assertEqual(images["images"].shape, (1797, 8, 8, 1))
        self.assertEqual(images["images"].dtype, np.uint8)
        self.assertEqual(images["labels"].shape, (1797,))
        weights = self.api.download_model(self.model_id, None)
        path = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"{self.model_id}.safetensors"
        path.write_bytes(weights)
        with safe_open(str(path), "np") as f:
            manifest = json.loads(f.metadata()["manifest"])
            total = sum(f.get_tensor(k).size for k in f.keys() if "running_" not in k)
        path.unlink()
        self.assertEqual(manifest["format"], "mlaas.network")
        record = self.api.get_model(self.model_id)
        self.assertEqual(total, record["network"]["parameters"])


SUNSPOTS = DIGITS.parent / "sunspots.csv"


class ForecasterTest(unittest.TestCase):
    """statsmodels' yearly sunspots forecast from their last 20 years; the README's MASE rule
    (below 1 and below the naive forecast's), and the next value from `forecast`."""

    def test_an_lstm_forecasts_sunspots(self):
        api = MLTrainingAPI(BASE)
        dataset = api.upload_dataset(SUNSPOTS.read_text(), name="sunspots")
        accepted = api.train(
            {"name": "sunspots", "type": "time_series_forecasting", "dataset": dataset["id"],
             "forecast": {"target": "SUNACTIVITY", "time_column": "YEAR", "window": 20}},
            {"epochs": 40, "batch_size": 16, "learning_rate": 0.01, "seed": 4})
        model_id = accepted["model_id"]
        deadline = time.time() + 600
        while time.time() < deadline:
            status = api.training_status(model_id)
            if status["status"] in ("completed", "failed", "stopped"):
                break
            time.sleep(1)
        self.assertEqual(status["status"], "completed", status)
        report = status["final_metrics"]["forecast"]
        self.assertLess(report["model"]["mase"], 1.0, report)
        self.assertLess(report["model"]["mase"], report["naive"]["mase"], report)
        values = [float(line.split(",")[1]) for line in SUNSPOTS.read_text().splitlines()[1:]]
        answer = api.forecast(model_id, values[-20:])
        self.assertEqual(len(answer["predictions"]), 1)
        self.assertGreaterEqual(answer["predictions"][0]["value"], 0.0)


DOCSTRINGS = DIGITS.parent / "docstrings.csv"


class TextClassifierTest(unittest.TestCase):
    """Python's docstrings by topic: the fasttext preset trained on the text column (the
    route tests train the default textcnn), its vocabulary in the model file's manifest, and
    predictions from raw texts."""

    def test_fasttext_classifies_docstrings(self):
        api = MLTrainingAPI(BASE)
        dataset = api.upload_dataset(DOCSTRINGS.read_text(), name="docstrings", target="topic")
        accepted = api.train(
            {"name": "topics", "type": "text_classification", "architecture": "fasttext",
             "dataset": dataset["id"]},
            {"epochs": 15, "learning_rate": 0.02, "seed": 7})
        model_id = accepted["model_id"]
        deadline = time.time() + 600
        while time.time() < deadline:
            status = api.training_status(model_id)
            if status["status"] in ("completed", "failed", "stopped"):
                break
            time.sleep(1)
        self.assertEqual(status["status"], "completed", status)
        # scikit-learn's TF-IDF and logistic regression: 0.85-0.87 on such splits.
        self.assertGreaterEqual(status["final_metrics"]["validation"]["accuracy"], 0.84)
        answer = api.predict_texts(model_id, ["Return the square root of x.",
                                              "Connect to a host on a given port."])
        self.assertEqual(len(answer["predictions"]), 2)
        self.assertEqual(answer["predictions"][0]["label"], "numbers", answer)
        path = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"{model_id}.safetensors"
        path.write_bytes(api.download_model(model_id, None))
        with safe_open(str(path), "np") as f:
            manifest = json.loads(f.metadata()["manifest"])
        path.unlink()
        words = manifest["input"]["vocabulary"]
        self.assertEqual(manifest["input"]["kind"], "text")
        self.assertLessEqual(len(words) + 2, 20000)
        self.assertIn("return", words[:20])


if __name__ == "__main__":
    unittest.main()
