"""The ML Training API over HTTP: one method per operation of the OpenAPI document, typed
with the TypedDicts generated from it (`mlaas.models`).

Every non-2xx answer raises `APIError` (the error envelope's code, message and details);
429 and 503 are retried after their `Retry-After` (at most `max_retries` times).
"""

from __future__ import annotations

import base64
import email.utils
import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Mapping, cast

import httpx

from . import models

DEFAULT_BASE_URL = "http://localhost:5000"
RETRIED_STATUSES = (429, 503)
#: The longest wait between retries, whatever `Retry-After` says.
MAX_RETRY_WAIT_SECONDS = 30.0
#: Job statuses after which nothing changes.
FINISHED = ("completed", "failed", "stopped")


class APIError(Exception):
    """A non-2xx answer: `status`, and the envelope's `code`, `message`, `details` and
    `request_id` (a body that is not the envelope gives code `HTTP_<status>`)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 request_id: str | None = None, body: Any = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        self.body = body

    @classmethod
    def from_response(cls, r: httpx.Response) -> "APIError":
        try:
            body = r.json()
        except ValueError:
            body = r.text
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "code" in error:
            return cls(r.status_code, str(error["code"]), str(error.get("message", "")),
                       error.get("details"), body.get("request_id"), body)
        return cls(r.status_code, f"HTTP_{r.status_code}", str(body)[:500], None,
                   r.headers.get("x-request-id"), body)


def _read_body(body: str | bytes | os.PathLike | BinaryIO) -> bytes:
    """Text, bytes, a path or an open binary file, as bytes."""
    if isinstance(body, os.PathLike):
        with open(body, "rb") as f:
            return f.read()
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    return body.read()


def retry_after_seconds(value: str | None, default: float) -> float:
    """`Retry-After` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class MLTrainingAPI:
    """A client of one service.

    >>> api = MLTrainingAPI()                       # http://localhost:5000, no key
    >>> api.get_service_status()["configured_services"]
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None, *,
                 timeout: float = 60.0, max_retries: int = 3,
                 transport: httpx.BaseTransport | None = None):
        headers = {"user-agent": "mlaas-python/0.1.0"}
        key = api_key if api_key is not None else os.environ.get("MLAAS_API_KEY")
        if key:
            headers["authorization"] = f"Bearer {key}"
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "MLTrainingAPI":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------

    def _send(self, method: str, path: str, *, json: Any = None, content: bytes | None = None,
              params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
              idempotency_key: str | None = None) -> httpx.Response:
        h = dict(headers or {})
        if idempotency_key:
            h["idempotency-key"] = idempotency_key
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.max_retries + 1):
            r = self._http.request(method, path, json=json, content=content, params=query,
                                   headers=h)
            if r.status_code in RETRIED_STATUSES and attempt < self.max_retries:
                wait = retry_after_seconds(r.headers.get("retry-after"), 2.0 ** attempt)
                time.sleep(min(wait, MAX_RETRY_WAIT_SECONDS))
                continue
            if r.status_code >= 400:
                raise APIError.from_response(r)
            return r
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._send(method, path, **kw).json()

    # -- the specification's SDK methods ---------------------------------------------

    def get_service_status(self) -> models.AiStatus:
        """`GET /v1/ai/status`: every provider, configured or not."""
        return cast(models.AiStatus, self._json("GET", "/v1/ai/status"))

    def generate_synthetic_data(self, model_desc: str, existing_data: str | None = None,
                                target_count: int | None = None, *,
                                idempotency_key: str | None = None,
                                **fields: Any) -> models.SyntheticDataResponse:
        """`POST /v1/ai/synthetic-data`; any other request field by keyword
        (`data_schema=`, `sample_rows=`, `seed=`, ...)."""
        body = {"model_description": model_desc, **fields}
        if existing_data is not None:
            body["existing_data"] = existing_data
        if target_count is not None:
            body["target_count"] = target_count
        return cast(models.SyntheticDataResponse,
                    self._json("POST", "/v1/ai/synthetic-data", json=body,
                               idempotency_key=idempotency_key))

    def analyze_model(self, model_desc: str, data_sample: str | None = None,
                      metrics: Mapping[str, Any] | None = None, *,
                      idempotency_key: str | None = None,
                      **fields: Any) -> models.AnalyzeResponse:
        """`POST /v1/ai/analyze`; `architecture=` and the other fields by keyword."""
        body: dict[str, Any] = {"model_description": model_desc, **fields}
        if data_sample is not None:
            body["data_sample"] = data_sample
        if metrics is not None:
            body["performance_metrics"] = dict(metrics)
        return cast(models.AnalyzeResponse,
                    self._json("POST", "/v1/ai/analyze", json=body,
                               idempotency_key=idempotency_key))

    # -- system -----------------------------------------------------------------------

    def health(self) -> models.Health:
        """`GET /health` (a 503 raises `APIError` with the body in `.body`)."""
        return cast(models.Health, self._json("GET", "/health"))

    def usage(self, days: int | None = None) -> models.Usage:
        """`GET /v1/ai/usage`: provider calls, tokens and cost per day."""
        return cast(models.Usage, self._json("GET", "/v1/ai/usage", params={"days": days}))

    def openapi(self) -> dict[str, Any]:
        """`GET /openapi.json`: the document these types were generated from."""
        return cast(dict, self._json("GET", "/openapi.json"))

    def enhance_model(self, request: models.EnhanceRequest, *,
                      idempotency_key: str | None = None) -> models.EnhanceResponse:
        """`POST /v1/ai/enhance`."""
        return cast(models.EnhanceResponse,
                    self._json("POST", "/v1/ai/enhance", json=request,
                               idempotency_key=idempotency_key))

    # -- datasets ---------------------------------------------------------------------

    def upload_dataset(self, csv: str | bytes | os.PathLike | BinaryIO, *,
                       target: str | None = None, name: str | None = None,
                       idempotency_key: str | None = None) -> models.DatasetCreated:
        """`POST /v1/datasets` with a CSV body: text, bytes, a path or an open binary file."""
        return self._upload(csv, "text/csv", target, name, idempotency_key)

    def upload_parquet(self, parquet: bytes | os.PathLike | BinaryIO, *,
                       target: str | None = None, name: str | None = None,
                       idempotency_key: str | None = None) -> models.DatasetCreated:
        """`POST /v1/datasets` with an Apache Parquet file (bytes, a path or an open file)."""
        return self._upload(parquet, "application/vnd.apache.parquet", target, name,
                            idempotency_key)

    def upload_images(self, archive: bytes | os.PathLike | BinaryIO, *,
                      name: str | None = None, size: tuple[int, int] | str | None = None,
                      idempotency_key: str | None = None) -> models.DatasetCreated:
        """`POST /v1/datasets` with an ImageFolder zip (`<class>/<image>.png`; bytes, a path
        or an open file); `size` is `(height, width)` or `"HxW"`. Download the images with
        `download_dataset(id, "safetensors")`."""
        if isinstance(size, tuple):
            size = f"{size[0]}x{size[1]}"
        return self._upload(archive, "application/zip", None, name, idempotency_key,
                            size=size)

    def upload_file(self, body: str | bytes | os.PathLike | BinaryIO, content_type: str, *,
                    name: str | None = None, target: str | None = None,
                    size: tuple[int, int] | str | None = None) -> models.DatasetCreated:
        """A file over the 6 MB request limit (a table up to 16 MiB, an ImageFolder zip up to
        100 MiB): `POST /v1/datasets/uploads`, a PUT of the bytes to the URL it answers (S3,
        or the dev server's blob route), then `POST .../complete`."""
        data = _read_body(body)
        if isinstance(size, tuple):
            size = f"{size[0]}x{size[1]}"
        announce: dict[str, Any] = {"content_type": content_type, "bytes": len(data)}
        for key, value in (("name", name), ("target", target), ("size", size)):
            if value is not None:
                announce[key] = value
        upload = self._json("POST", "/v1/datasets/uploads", json=announce)
        put = self._http.put(upload["url"], content=data, headers=upload["headers"])
        if put.status_code >= 300:
            raise APIError.from_response(put)
        return cast(models.DatasetCreated, self._json("POST", upload["complete_url"]))

    def _upload(self, body: str | bytes | os.PathLike | BinaryIO, content_type: str,
                target: str | None, name: str | None,
                idempotency_key: str | None, size: str | None = None) -> models.DatasetCreated:
        data = _read_body(body)
        return cast(models.DatasetCreated,
                    self._json("POST", "/v1/datasets", content=data,
                               headers={"content-type": content_type},
                               params={"target": target, "name": name, "size": size},
                               idempotency_key=idempotency_key))

    def upload_rows(self, rows: list[dict[str, Any]], *, target: str | None = None,
                    name: str | None = None,
                    idempotency_key: str | None = None) -> models.DatasetCreated:
        """`POST /v1/datasets` with JSON rows."""
        body: dict[str, Any] = {"rows": rows}
        if target is not None:
            body["target"] = target
        if name is not None:
            body["name"] = name
        return cast(models.DatasetCreated,
                    self._json("POST", "/v1/datasets", json=body,
                               idempotency_key=idempotency_key))

    def list_datasets(self, limit: int | None = None,
                      next_token: str | None = None) -> models.DatasetList:
        return cast(models.DatasetList, self._json(
            "GET", "/v1/datasets", params={"limit": limit, "next_token": next_token}))

    def iter_datasets(self, page_size: int | None = None) -> Iterator[models.DatasetSummary]:
        """Every dataset, newest first, page by page."""
        token = None
        while True:
            page = self.list_datasets(page_size, token)
            yield from page["datasets"]
            token = page.get("next_token")
            if not token:
                return

    def get_dataset(self, dataset_id: str) -> models.Dataset:
        return cast(models.Dataset, self._json("GET", f"/v1/datasets/{dataset_id}"))

    def download_dataset(self, dataset_id: str, format: str = "csv") -> bytes:
        """`GET /v1/datasets/{id}/download`: a table as `csv`, `jsonl` or `parquet`, an image
        dataset as `safetensors` (a large one follows the redirect to its signed URL)."""
        r = self._send("GET", f"/v1/datasets/{dataset_id}/download",
                       params={"format": format})
        if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
            r = self._http.get(r.headers["location"])
            if r.status_code >= 400:
                raise APIError.from_response(r)
        return r.content

    # -- models and training ----------------------------------------------------------

    def train(self, model_config: models.TrainModelConfig,
              training_config: models.TrainTrainingConfig | None = None, *,
              idempotency_key: str | None = None) -> models.TrainAccepted:
        """`POST /v1/models/train` (202: the job is queued)."""
        body: dict[str, Any] = {"model_config": model_config}
        if training_config is not None:
            body["training_config"] = training_config
        return cast(models.TrainAccepted, self._json("POST", "/v1/models/train", json=body,
                                                     idempotency_key=idempotency_key))

    def list_models(self, status: str | None = None, limit: int | None = None,
                    next_token: str | None = None) -> models.ModelList:
        return cast(models.ModelList, self._json(
            "GET", "/v1/models",
            params={"status": status, "limit": limit, "next_token": next_token}))

    def iter_models(self, status: str | None = None,
                    page_size: int | None = None) -> Iterator[models.ModelSummary]:
        """Every model, newest first, page by page."""
        token = None
        while True:
            page = self.list_models(status, page_size, token)
            yield from page["models"]
            token = page.get("next_token")
            if not token:
                return

    def get_model(self, model_id: str) -> models.Model:
        return cast(models.Model, self._json("GET", f"/v1/models/{model_id}"))

    def training_status(self, model_id: str) -> models.TrainingStatus:
        return cast(models.TrainingStatus, self._json("GET", f"/v1/models/{model_id}/status"))

    def stop_training(self, model_id: str, *,
                      idempotency_key: str | None = None) -> models.StopAccepted:
        return cast(models.StopAccepted, self._json("POST", f"/v1/models/{model_id}/stop",
                                                    idempotency_key=idempotency_key))

    def training_history(self, model_id: str, metric: str | None = None,
                         max_points: int | None = None, from_epoch: int | None = None,
                         to_epoch: int | None = None) -> models.HistoryPage:
        """`GET /v1/models/{id}/history`: one metric's points (downsampled on the server by
        LTTB to `max_points`) or, without `metric`, the epoch records evenly spaced."""
        return cast(models.HistoryPage, self._json(
            "GET", f"/v1/models/{model_id}/history",
            params={"metric": metric, "max_points": max_points, "from_epoch": from_epoch,
                    "to_epoch": to_epoch}))

    def compare_models(self, model_ids: list[str], metric: str | None = None,
                       max_points: int | None = None) -> models.ModelComparison:
        """`GET /v1/models/compare`: settings side by side (`differing` names the fields
        that differ) and one metric's curves aligned by epoch."""
        return cast(models.ModelComparison, self._json(
            "GET", "/v1/models/compare",
            params={"ids": ",".join(model_ids), "metric": metric, "max_points": max_points}))

    def resume_training(self, model_id: str, *,
                        idempotency_key: str | None = None) -> models.ResumeAccepted:
        """`POST /v1/models/{id}/resume`: a stopped job continues from its checkpoint."""
        return cast(models.ResumeAccepted, self._json("POST", f"/v1/models/{model_id}/resume",
                                                      idempotency_key=idempotency_key))

    def create_sweep(self, request: models.SweepRequest, *,
                     idempotency_key: str | None = None) -> models.SweepAccepted:
        """`POST /v1/sweeps`: a base training request, a search space over its dotted fields,
        an objective and `max_parallel`; every trial is validated before any starts."""
        return cast(models.SweepAccepted, self._json("POST", "/v1/sweeps", json=request,
                                                     idempotency_key=idempotency_key))

    def get_sweep(self, sweep_id: str) -> models.Sweep:
        """`GET /v1/sweeps/{id}`: every trial with its settings, status and metric, the best."""
        return cast(models.Sweep, self._json("GET", f"/v1/sweeps/{sweep_id}"))

    def list_sweeps(self, limit: int | None = None,
                    next_token: str | None = None) -> models.SweepList:
        """`GET /v1/sweeps`: one page, newest first (`next_token` for the next)."""
        return cast(models.SweepList, self._json(
            "GET", "/v1/sweeps", params={"limit": limit, "next_token": next_token}))

    def stop_sweep(self, sweep_id: str, *, idempotency_key: str | None = None) -> models.Sweep:
        """`POST /v1/sweeps/{id}/stop`: pending trials are cancelled, running ones stopped."""
        return cast(models.Sweep, self._json("POST", f"/v1/sweeps/{sweep_id}/stop",
                                             idempotency_key=idempotency_key))

    def wait_for_sweep(self, sweep_id: str, *, timeout: float | None = None,
                       poll_seconds: float = 1.0) -> models.Sweep:
        """Polls the sweep until it is completed or stopped; `TimeoutError` after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            s = self.get_sweep(sweep_id)
            if s["status"] in ("completed", "stopped"):
                return s
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"sweep {sweep_id} is still {s['status']} after {timeout} s")
            time.sleep(poll_seconds)

    def predict(self, model_id: str, rows: list[dict[str, Any]], *,
                idempotency_key: str | None = None) -> models.Predictions:
        """`POST /v1/models/{id}/predict`: raw rows (missing values and unseen categories
        are answered)."""
        return cast(models.Predictions, self._json(
            "POST", f"/v1/models/{model_id}/predict", json={"rows": rows},
            idempotency_key=idempotency_key))

    def predict_images(self, model_id: str, images: list[bytes | os.PathLike], *,
                       idempotency_key: str | None = None) -> models.Predictions:
        """`POST /v1/models/{id}/predict` for an image network: PNG or JPEG files (bytes or
        paths), sent base64-encoded and resized by the service as the upload was."""
        encoded = []
        for image in images:
            data = Path(image).read_bytes() if isinstance(image, os.PathLike) else image
            encoded.append(base64.b64encode(data).decode("ascii"))
        return cast(models.Predictions, self._json(
            "POST", f"/v1/models/{model_id}/predict", json={"images": encoded},
            idempotency_key=idempotency_key))

    def forecast(self, model_id: str, values: list[float], *,
                 idempotency_key: str | None = None) -> models.Predictions:
        """`POST /v1/models/{id}/predict` for a forecaster: the series' last `window`
        values, oldest first; the answer's predictions are the next `horizon` values."""
        return cast(models.Predictions, self._json(
            "POST", f"/v1/models/{model_id}/predict", json={"values": values},
            idempotency_key=idempotency_key))

    def predict_texts(self, model_id: str, texts: list[str], *,
                      idempotency_key: str | None = None) -> models.Predictions:
        """`POST /v1/models/{id}/predict` for a text classifier: raw texts, read as the
        training texts were (lower-cased words, the first `max_length` kept)."""
        return cast(models.Predictions, self._json(
            "POST", f"/v1/models/{model_id}/predict", json={"texts": texts},
            idempotency_key=idempotency_key))

    def download_model(self, model_id: str, format: str | None = "onnx") -> bytes:
        """`GET /v1/models/{id}/download`: the trained model as `onnx` (the whole pipeline,
        raw columns in; the record's `artifact.onnx` lists its inputs), or the stored artifact
        (`safetensors` or `json`; `None` for whichever it is). A large file follows the
        redirect to its signed URL."""
        params = {"format": format} if format else None
        r = self._send("GET", f"/v1/models/{model_id}/download", params=params)
        if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
            r = self._http.get(r.headers["location"])
            if r.status_code >= 400:
                raise APIError.from_response(r)
        return r.content

    def metrics_svg(self, model_id: str) -> str:
        """`GET /v1/models/{id}/metrics.svg`: the learning curves as SVG text."""
        return self._send("GET", f"/v1/models/{model_id}/metrics.svg").text

    def wait_for_training(self, model_id: str, *, timeout: float | None = None,
                          poll_seconds: float = 1.0, progress: bool = False,
                          stream: Any = None) -> models.TrainingStatus:
        """Polls the job until it is completed, failed or stopped, and returns its last
        status (a failed job is returned, not raised: read `failure_reason`). With
        `progress=True` draws a progress bar on `stream` (stderr). `TimeoutError` after
        `timeout` seconds."""
        out = stream or sys.stderr
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            s = self.training_status(model_id)
            if progress:
                out.write("\r" + progress_line(s))
                out.flush()
            if s["status"] in FINISHED:
                if progress:
                    out.write("\n")
                return s
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"model {model_id} is still {s['status']} after {timeout} s")
            time.sleep(poll_seconds)


def progress_line(s: models.TrainingStatus, width: int = 30) -> str:
    """`[#########.....]  60.0 % epoch 6/10 in_progress val_accuracy 0.9123` from a status."""
    p = s.get("progress") or {}
    percent = float(p.get("percent") or (100.0 if s["status"] == "completed" else 0.0))
    filled = int(round(width * min(max(percent, 0.0), 100.0) / 100.0))
    line = f"[{'#' * filled}{'.' * (width - filled)}] {percent:5.1f} %"
    if p.get("epochs"):
        line += f" epoch {p.get('epoch', 0)}/{p['epochs']}"
    line += f" {s['status']}"
    last = (s.get("history") or [None])[-1]
    if last:
        for key in ("val_accuracy", "val_r2"):
            if last.get(key) is not None:
                line += f" {key} {last[key]:.4f}"
                break
    return line
