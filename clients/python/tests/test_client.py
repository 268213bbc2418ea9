"""The client against a running service (MLAAS_BASE_URL, default http://localhost:5000),
and its retry rule against httpx's mock transport.

    MLAAS_BASE_URL=http://127.0.0.1:5000 python -m unittest discover clients/python/tests
"""
import io
import json
import os
import pathlib
import random
import subprocess
import sys
import time
import unittest

import httpx

from mlaas import APIError, MLTrainingAPI, models, progress_line, retry_after_seconds

BASE = os.environ.get("MLAAS_BASE_URL", "http://localhost:5000")
HERE = pathlib.Path(__file__).resolve().parent.parent


def table(rows=300, seed=3):
    """x1 + x2 > 1 decides the label; a colour column and a few missing values."""
    rng = random.Random(seed)
    lines = ["x1,x2,colour,label"]
    for i in range(rows):
        x1, x2 = rng.random(), rng.random()
        colour = rng.choice(["red", "green", "blue"])
        label = "yes" if x1 + x2 > 1 else "no"
        lines.append(f"{'' if i % 17 == 0 else round(x1, 4)},{round(x2, 4)},{colour},{label}")
    return "\n".join(lines) + "\n"


class AgainstTheService(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = MLTrainingAPI(BASE)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def test_the_specifications_sdk_methods(self):
        status = self.api.get_service_status()
        self.assertEqual(status["total_services"], 5)
        self.assertIn("configured_services", status)
        data = self.api.generate_synthetic_data(
            "Binary classifier for email spam detection",
            "Email dataset with subject, body, sender features", 200)
        self.assertEqual(data["status"], "success")
        self.assertEqual(data["synthetic_data"]["generated_samples"], 200)
        # The generated dataset is a dataset like any other.
        ds = self.api.get_dataset(data["synthetic_data"]["dataset_id"])
        self.assertEqual(ds["rows"], 200)
        analysis = self.api.analyze_model(
            "LSTM for time series forecasting", "Stock price data, 5-year history",
            {"mse": 0.023, "mae": 0.14})
        self.assertEqual(analysis["status"], "success")

    def test_errors_carry_the_envelope(self):
        with self.assertRaises(APIError) as caught:
            self.api.get_model("mdl_doesnotexist")
        e = caught.exception
        self.assertEqual((e.status, e.code), (404, "NOT_FOUND"))
        self.assertTrue(e.request_id)
        with self.assertRaises(APIError) as caught:
            self.api.train({"name": "x", "type": "classification", "dataset": "ds_x",
                            "architecture": "vgg16"})
        e = caught.exception
        self.assertEqual((e.status, e.code), (400, "VALIDATION_ERROR"))
        self.assertEqual(e.details["field"], "model_config.architecture")

    def test_a_dataset_trains_a_model_that_predicts(self):
        created = self.api.upload_dataset(table(), target="label", name="client test")
        ds = created["id"]
        got = self.api.get_dataset(ds)
        self.assertEqual(got["rows"], 300)
        self.assertIn(ds, [d["id"] for d in self.api.iter_datasets(page_size=2)])
        csv = self.api.download_dataset(ds).decode()
        self.assertEqual(csv.splitlines()[0], "x1,x2,colour,label")
        self.assertEqual(len(csv.splitlines()), 301)

        accepted = self.api.train(
            {"name": "client gbm", "type": "classification", "architecture": "gbm",
             "dataset": ds, "gbm": {"trees": 30}},
            {"seed": 1})
        model_id = accepted["model_id"]
        bar = io.StringIO()
        final = self.api.wait_for_training(model_id, timeout=120, poll_seconds=0.3,
                                           progress=True, stream=bar)
        self.assertEqual(final["status"], "completed", final.get("failure_reason"))
        self.assertIn("completed", bar.getvalue().strip().splitlines()[-1].split("\r")[-1])
        self.assertGreater(final["accuracy"], 0.8)
        p = self.api.predict(model_id, [{"x1": 0.9, "x2": 0.9, "colour": "red"},
                                        {"x1": None, "x2": 0.01, "colour": "purple"}])
        self.assertEqual([r["label"] for r in p["predictions"]], ["yes", "no"])
        self.assertIn("<svg", self.api.metrics_svg(model_id))
        self.assertIn(model_id, [m["id"] for m in self.api.iter_models()])

    def test_a_stopped_job_resumes_from_its_checkpoint(self):
        ds = self.api.upload_dataset(table(), target="label", name="resume test")["id"]
        accepted = self.api.train(
            {"name": "client resume", "type": "classification", "architecture": "mlp",
             "hidden_layers": [64, 64], "dataset": ds},
            {"epochs": 400, "batch_size": 4, "seed": 5})
        model_id = accepted["model_id"]
        deadline = time.monotonic() + 120
        while not self.api.training_status(model_id)["history"]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        self.api.stop_training(model_id)
        stopped = self.api.wait_for_training(model_id, timeout=120, poll_seconds=0.2)
        self.assertEqual(stopped["status"], "stopped")
        self.assertIsNotNone(stopped["checkpoint"])
        resumed = self.api.resume_training(model_id)
        self.assertEqual(resumed["status"], "queued")
        self.assertEqual(resumed["checkpoint"]["epoch"], stopped["checkpoint"]["epoch"])
        final = self.api.wait_for_training(model_id, timeout=300, poll_seconds=0.5)
        self.assertEqual(final["status"], "completed", final.get("failure_reason"))
        self.assertEqual([e["epoch"] for e in final["history"]], list(range(1, 401)))
        self.assertEqual(final["invocations"], 2)
        self.assertGreater(final["billing"]["gb_seconds"], 0)
        with self.assertRaises(APIError) as caught:
            self.api.resume_training(model_id)
        self.assertEqual(caught.exception.status, 409)
        curve = self.api.training_history(model_id, metric="val_loss", max_points=50)
        self.assertEqual(len(curve["points"]), 50)
        self.assertEqual(curve["downsampling"], "lttb")
        other = self.api.train(
            {"name": "client resume b", "type": "classification", "architecture": "mlp",
             "hidden_layers": [64, 64], "dataset": ds},
            {"epochs": 3, "batch_size": 4, "seed": 5})["model_id"]
        self.api.wait_for_training(other, timeout=120, poll_seconds=0.2)
        c = self.api.compare_models([model_id, other], max_points=20)
        self.assertEqual(c["differing"], ["training_config.epochs"])
        self.assertEqual(len(c["epochs"]), 20)
        self.assertEqual(c["series"][other][3:], [None] * 17)

    def test_a_sweep_trains_its_grid_side_by_side_and_names_the_best(self):
        ds = self.api.upload_dataset(table(), target="label", name="sweep test")["id"]
        accepted = self.api.create_sweep({
            "name": "client sweep", "dataset": ds, "objective": "val_accuracy",
            "max_parallel": 2,
            "base": {"model_config": {"type": "classification", "architecture": "mlp"},
                     "training_config": {"epochs": 20, "seed": 3}},
            "search": {"method": "grid",
                       "space": {"training_config.learning_rate": [0.001, 0.05],
                                 "model_config.hidden_layers": [[8], [32]]}}})
        self.assertEqual(accepted["trials"], 4)
        self.assertEqual(len(accepted["started"]), 2)
        sweep = self.api.wait_for_sweep(accepted["sweep_id"], timeout=300, poll_seconds=0.3)
        self.assertEqual(sweep["status"], "completed")
        self.assertEqual(sweep["counts"], {"completed": 4})
        metrics = [t["metric"] for t in sweep["trials"]]
        self.assertEqual(sweep["best"]["metric"], max(metrics))
        best = self.api.training_status(sweep["best"]["model_id"])
        self.assertEqual(best["history"][-1]["val_accuracy"], sweep["best"]["metric"])
        # The first two trials trained side by side, each in its own worker instance.
        spans = []
        for t in sweep["trials"][:2]:
            moves = self.api.training_status(t["model_id"])["status_transitions"]
            claimed = next(m["at"] for m in moves if m["status"] == "in_progress")
            spans.append((claimed, moves[-1]["at"]))
        (a0, b0), (a1, b1) = spans
        self.assertTrue(a1 < b0 and a0 < b1, spans)
        listed = self.api.list_sweeps(limit=5)["sweeps"]
        self.assertIn(accepted["sweep_id"], [w["sweep_id"] for w in listed])
        with self.assertRaises(APIError) as caught:
            self.api.stop_sweep(accepted["sweep_id"])
        self.assertEqual(caught.exception.status, 409)
        with self.assertRaises(APIError) as caught:
            self.api.create_sweep({
                "dataset": ds, "objective": "val_accuracy",
                "base": {"model_config": {"type": "classification"}},
                "search": {"method": "grid", "space": {"training_config.epochs": [2, 0]}}})
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.details["field"], "search.space.training_config.epochs")

    def test_parquet_reads_in_pyarrow_with_its_types_and_uploads_back(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        csv = ("n,x,flag,when,word\n1,0.5,true,2024-01-02T03:04:05Z,a\n"
               "2,,false,2024-02-29,\n3,2.5,true,,c\n")
        ds = self.api.upload_dataset(csv, target="flag", name="parquet types")["id"]
        data = self.api.download_dataset(ds, "parquet")
        self.assertEqual(data[:4], b"PAR1")
        t = pq.read_table(pa.BufferReader(data))
        self.assertEqual(t.num_rows, 3)
        types = {f.name: str(f.type) for f in t.schema}
        self.assertEqual(types, {"n": "int64", "x": "double", "flag": "bool",
                                 "when": "timestamp[ms, tz=UTC]", "word": "string"})
        self.assertEqual(t.column("x").to_pylist(), [0.5, None, 2.5])
        self.assertEqual(t.column("word").to_pylist(), ["a", None, "c"])
        # A file pyarrow wrote (zstd is not among the codecs read: snappy is pyarrow's default).
        sink = pa.BufferOutputStream()
        pq.write_table(pa.table({"a": [1, 2, 3, 4], "label": ["x", "y", "x", "y"],
                                 "b": [0.1, None, 0.3, 0.4]}), sink)
        created = self.api.upload_parquet(sink.getvalue().to_pybytes(), target="label")
        self.assertEqual(created["rows"], 4)
        self.assertEqual([c["name"] for c in created["columns"]], ["a", "label", "b"])
        # A generated dataset has its Parquet copy too, every row.
        gen = self.api.generate_synthetic_data("churn", "tenure, plan, monthly charges", 1000)
        g = pq.read_table(pa.BufferReader(self.api.download_dataset(
            gen["synthetic_data"]["dataset_id"], "parquet")))
        self.assertEqual(g.num_rows, 1000)

    def test_a_million_generated_rows_come_back_from_parquet(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        gen = self.api.generate_synthetic_data(
            "Binary classifier for fraud detection", "transactions with amount, merchant, hour",
            1_000_000)
        ds = gen["synthetic_data"]["dataset_id"]
        # Past the inline limit: the client follows the redirect to the signed blob URL.
        t = pq.read_table(pa.BufferReader(self.api.download_dataset(ds, "parquet")))
        self.assertEqual(t.num_rows, 1_000_000)
        record = self.api.get_dataset(ds)
        self.assertEqual(t.num_rows, record["rows"])
        self.assertEqual([f.name for f in t.schema], [c["name"] for c in record["columns"]])
        kinds = {c["name"]: c["kind"] for c in record["columns"]}
        types = {f.name: str(f.type) for f in t.schema}
        self.assertEqual(types["time_of_day"], "int64", kinds)
        self.assertEqual(types["amount"], "double")
        self.assertEqual(types["merchant_category"], "string")

    def test_the_types_are_the_served_documents(self):
        served = self.api.openapi()
        copy = json.loads((HERE / "openapi.json").read_text())
        self.assertEqual(served, copy, "clients/python/openapi.json differs from the service's")
        check = subprocess.run([sys.executable, str(HERE / "generate.py"), "--check"],
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("TrainingStatus", dir(models))


class Retries(unittest.TestCase):
    def client(self, statuses, calls):
        def handler(request):
            calls.append(request.url.path)
            status = statuses[min(len(calls) - 1, len(statuses) - 1)]
            if status == 200:
                return httpx.Response(200, json={"status": "healthy"})
            return httpx.Response(status, headers={"retry-after": "0"}, json={
                "error": {"code": "RATE_LIMITED" if status == 429 else "SERVICE_UNAVAILABLE",
                          "message": "later", "details": {"retry_after_seconds": 0}},
                "timestamp": "2026-12-01T00:00:00Z", "request_id": "req_1"})
        return MLTrainingAPI("http://test", transport=httpx.MockTransport(handler),
                             max_retries=2)

    def test_429_and_503_are_retried_after_retry_after(self):
        calls = []
        self.assertEqual(self.client([429, 503, 200], calls).health()["status"], "healthy")
        self.assertEqual(len(calls), 3)

    def test_retries_end_in_the_error(self):
        calls = []
        with self.assertRaises(APIError) as caught:
            self.client([503], calls).health()
        self.assertEqual((caught.exception.code, caught.exception.request_id),
                         ("SERVICE_UNAVAILABLE", "req_1"))
        self.assertEqual(len(calls), 3, "the first try and two retries")

    def test_other_errors_are_not_retried(self):
        calls = []
        with self.assertRaises(APIError):
            self.client([400], calls).health()
        self.assertEqual(len(calls), 1)

    def test_retry_after_forms(self):
        self.assertEqual(retry_after_seconds("3", 1.0), 3.0)
        self.assertEqual(retry_after_seconds(None, 1.5), 1.5)
        self.assertEqual(retry_after_seconds("soon", 2.0), 2.0)
        self.assertEqual(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 2.0), 0.0)

    def test_the_progress_line(self):
        line = progress_line({"status": "in_progress", "progress": {"epoch": 3, "epochs": 10,
                              "percent": 30.0}, "history": [{"val_accuracy": 0.9}]}, width=10)
        self.assertEqual(line, "[###.......]  30.0 % epoch 3/10 in_progress val_accuracy 0.9000")


class ImageUploads(unittest.TestCase):
    def test_a_zip_goes_as_application_zip_with_its_size(self):
        seen = []

        def handler(request):
            seen.append(request)
            return httpx.Response(201, json={"id": "ds_1"})
        api = MLTrainingAPI("http://test", transport=httpx.MockTransport(handler))
        self.assertEqual(api.upload_images(b"PK..", name="digits", size=(28, 32))["id"], "ds_1")
        api.upload_images(io.BytesIO(b"PK.."), size="8x8")
        self.assertEqual(seen[0].headers["content-type"], "application/zip")
        self.assertEqual(dict(seen[0].url.params), {"name": "digits", "size": "28x32"})
        self.assertEqual(seen[0].content, b"PK..")
        self.assertEqual(dict(seen[1].url.params), {"size": "8x8"})


if __name__ == "__main__":
    unittest.main()
