"""Lifecycle checks of scripts/devserver.py (run by scripts/smoke against a second instance
with a short emulator --timeout).

  python3 tests/smoke_lifecycle.py BASE_URL DATA_DIR TIMEOUT_SECONDS [--checks a,b,c,d,e]

a: idle for 3 x the timeout, /health and /v1/ai/status still answer at once (plain
   `cargo lambda watch` loses the function to the idle 408 of its Runtime API poll);
b: a function killed with SIGKILL is restarted and answers again;
c: a request in flight when its function is killed is answered at once (not left to the
   emulator's timeout);
d: a training job submitted after the worker was killed still completes;
e: the blob server: signed URLs, bad or expired signatures, traversal, HEAD;
f: a job longer than one worker invocation (MLAAS_INVOCATION_BUDGET_SECONDS) checkpoints, is handed
   on through the emulator's Invoke API, and completes with every epoch.
PIDs and the blob secret are read from DATA_DIR/devserver/. Standard library only.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path

p = argparse.ArgumentParser()
p.add_argument("base")
p.add_argument("data_dir")
p.add_argument("timeout", type=float)
p.add_argument("--checks", default="a,b,c,d,e,f")
args = p.parse_args()
BASE = urllib.parse.urlsplit(args.base)
STATE = Path(args.data_dir) / "devserver"
T = args.timeout
CHECKS = set(args.checks.split(","))
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   lifecycle: {name}")
    else:
        failed += 1
        print(f"FAIL lifecycle: {name} {detail}")
    return ok


def request(method, path, body=None, timeout=10.0, url=None):
    """(status, body bytes, headers, seconds); status None on a client timeout or error."""
    u = urllib.parse.urlsplit(url) if url else BASE
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    started = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, payload, {k.lower(): v for k, v in resp.getheaders()}, time.monotonic() - started
    except (OSError, http.client.HTTPException) as e:
        return None, str(e).encode(), {}, time.monotonic() - started
    finally:
        conn.close()


def as_json(data):
    try:
        return json.loads(data)
    except ValueError:
        return {}


def pid_of(name):
    try:
        return int((STATE / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None


def wait_new_pid(name, old, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = pid_of(name)
        if pid and pid != old:
            return pid
        time.sleep(0.05)
    return None


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except (OSError, TypeError):
        return False


# The answer must come well before the emulator would end the request itself.
PROMPT = min(3.0, T * 0.6)

if "a" in CHECKS:
    status, _, _, _ = request("GET", "/health")
    check("a: /health answers before the idle period", status == 200, status)
    before = pid_of("system")
    print(f"note lifecycle: idle for {3 * T:.0f} s (3 x the emulator timeout)")
    time.sleep(3 * T)
    for path in ("/health", "/v1/ai/status"):
        status, data, _, took = request("GET", path, timeout=PROMPT)
        check(f"a: {path} answers 200 within {PROMPT:.1f} s after the idle period",
              status == 200, f"status={status} after {took:.1f} s {data[:120]!r}")
    if before is not None:
        check("a: system was not restarted while idle (the idle 408 never reached it)",
              pid_of("system") == before, f"{before} -> {pid_of('system')}")

if "b" in CHECKS:
    old = pid_of("system")
    check("b: system's pid is known", old is not None)
    check("b: kill -9 system", kill(old))
    status, data, _, took = request("GET", "/health", timeout=PROMPT + 2)
    check("b: /health answers 200 again within a few seconds", status == 200,
          f"status={status} after {took:.1f} s {data[:120]!r}")
    new = wait_new_pid("system", old)
    check("b: system runs again under a new pid", new is not None and new != old, (old, new))

if "c" in CHECKS:
    old = pid_of("synthetic-data")
    result = {}

    def generate():
        result["answer"] = request("POST", "/v1/ai/synthetic-data",
                                   {"model_description": "fraud", "target_count": 1000000},
                                   timeout=T + 30)
        result["at"] = time.monotonic()

    worker = threading.Thread(target=generate)
    worker.start()
    time.sleep(min(1.5, T / 3))
    in_flight = worker.is_alive()
    check("c: the million-row request is still in flight", in_flight)
    killed_at = time.monotonic()
    check("c: kill -9 synthetic-data", kill(old))
    worker.join(T + 40)
    status, data, _, _ = result.get("answer", (None, b"", {}, 0))
    waited = result.get("at", time.monotonic()) - killed_at
    # 408 would be the emulator's own timeout: the request was left hanging.
    check(f"c: the request is answered within {PROMPT:.1f} s of the kill (not by the emulator's timeout)",
          in_flight and status is not None and status != 408 and waited <= PROMPT,
          f"status={status} {waited:.1f} s after the kill {data[:160]!r}")
    check("c: the answer says the function exited",
          b"Runtime.ExitError" in data, data[:160])
    new = wait_new_pid("synthetic-data", old)
    status, _, _, took = request("GET", "/v1/datasets?limit=1", timeout=PROMPT + 2)
    check("c: synthetic-data answers again after its restart", new is not None and status == 200,
          f"pid {old} -> {new}, status={status} after {took:.1f} s")

def final_status(model_id, seconds):
    """The job's status once it is final (or the last one read within `seconds`)."""
    st = {}
    deadline = time.monotonic() + seconds
    while model_id and time.monotonic() < deadline:
        status, data, _, _ = request("GET", f"/v1/models/{model_id}/status")
        st = as_json(data)
        if status != 200 or st.get("status") in ("completed", "failed", "stopped"):
            break
        time.sleep(0.5)
    return st


dataset_id = None
if "d" in CHECKS:
    old = pid_of("training-worker")
    check("d: kill -9 training-worker", kill(old))
    new = wait_new_pid("training-worker", old)
    check("d: training-worker runs again under a new pid", new is not None, (old, new))
    status, data, _, _ = request("POST", "/v1/ai/synthetic-data", {
        "model_description": "Binary classification model for fraud detection",
        "existing_data": "Transaction data with features: amount, merchant, time, location",
        "target_count": 500, "seed": 7}, timeout=T + 30)
    dataset_id = as_json(data).get("synthetic_data", {}).get("dataset_id")
    check("d: a dataset to train on", status == 200 and dataset_id, f"status={status} {data[:160]!r}")
    status, data, _, _ = request("POST", "/v1/models/train", {
        "model_config": {"name": "m", "type": "classification", "architecture": "logistic_regression",
                         "dataset": dataset_id},
        "training_config": {"epochs": 2}}, timeout=T + 30)
    model_id = as_json(data).get("model_id")
    check("d: the job is accepted", status == 202 and model_id, f"status={status} {data[:160]!r}")
    st = final_status(model_id, 120)
    check("d: the job trains to completion on the restarted worker", st.get("status") == "completed",
          json.dumps(st)[:300])

if "e" in CHECKS:
    secret_file = STATE / "blob-secret"
    secret = bytes.fromhex(secret_file.read_text().strip())
    check("e: the blob secret file is private (0600)", secret_file.stat().st_mode & 0o077 == 0,
          oct(secret_file.stat().st_mode))
    blob_url = (STATE / "blob-url").read_text().strip()

    def signed(key, expires=None, sig=None):
        expires = str(int(time.time()) + 300 if expires is None else expires)
        sig = sig or hmac.new(secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()
        return f"{urllib.parse.urlsplit(blob_url).path}/{key}?expires={expires}&signature={sig}"

    def blob(method, path):
        return request(method, path, url=blob_url)

    folder = Path(args.data_dir) / "blobs" / "lifecycle"
    folder.mkdir(parents=True, exist_ok=True)
    content = b"a,b\n1,2\n3,4\n"
    (folder / "probe.csv").write_bytes(content)
    (folder / "probe.jsonl").write_bytes(b'{"a":1}\n')

    status, data, headers, _ = blob("GET", signed("lifecycle/probe.csv"))
    check("e: a signed URL serves the file", status == 200 and data == content, (status, data[:80]))
    check("e: with its length and type", headers.get("content-length") == str(len(content))
          and headers.get("content-type") == "text/csv; charset=utf-8", headers)
    status, data, headers, _ = blob("HEAD", signed("lifecycle/probe.csv"))
    check("e: HEAD answers the headers only", status == 200 and data == b""
          and headers.get("content-length") == str(len(content)), (status, headers))
    status, _, headers, _ = blob("GET", signed("lifecycle/probe.jsonl"))
    check("e: .jsonl is application/x-ndjson", status == 200
          and headers.get("content-type") == "application/x-ndjson", (status, headers))
    status, _, _, _ = blob("GET", signed("lifecycle/probe.csv", sig="0" * 64))
    check("e: a bad signature is 403", status == 403, status)
    status, _, _, _ = blob("GET", signed("lifecycle/probe.csv", expires=int(time.time()) - 1))
    check("e: an expired URL is 403", status == 403, status)
    good = signed("lifecycle/probe.csv")
    status, _, _, _ = blob("GET", good.replace("probe.csv", "probe.jsonl"))
    check("e: a signature for another key is 403", status == 403, status)
    for name, path in (("a non-ASCII signature", signed("lifecycle/probe.csv", sig="%C3%A9")),
                       ("a non-ASCII expiry", good.split("?")[0] + "?expires=%C2%B2&signature=" + "0" * 64)):
        status, _, _, _ = blob("GET", path)
        check(f"e: {name} is 403", status == 403, status)
    status, _, _, _ = blob("GET", signed("lifecycle/missing.csv"))
    check("e: a missing file is 404", status == 404, status)
    for key in ("lifecycle/../../devserver/blob-secret", "lifecycle/%2e%2e/%2e%2e/local.db", "../local.db"):
        status, _, _, _ = blob("GET", signed(key))
        check(f"e: the key {key!r} is refused", status in (403, 404), status)
    if dataset_id:
        status, api_csv, _, _ = request("GET", f"/v1/datasets/{dataset_id}/download?format=csv")
        status2, blob_csv, _, _ = blob("GET", signed(f"datasets/{dataset_id}.csv"))
        check("e: a stored dataset's CSV is served as the API downloads it",
              status == 200 and status2 == 200 and api_csv == blob_csv, (status, status2, len(api_csv), len(blob_csv)))

if "f" in CHECKS and dataset_id:
    epochs = 400
    status, data, _, _ = request("POST", "/v1/models/train", {
        "model_config": {"name": "long", "type": "classification", "architecture": "mlp",
                         "hidden_layers": [64, 64], "dataset": dataset_id},
        "training_config": {"epochs": epochs, "batch_size": 4, "seed": 3}}, timeout=T + 30)
    model_id = as_json(data).get("model_id")
    check("f: the long job is accepted", status == 202 and model_id, f"status={status} {data[:160]!r}")
    st = final_status(model_id, 300)
    steps = [t.get("status") for t in st.get("secondary_transitions", [])]
    check("f: it completes", st.get("status") == "completed", json.dumps(st)[:300])
    check("f: over more than one invocation",
          (st.get("invocations") or 0) >= 2 and steps.count("handed_on") == st.get("invocations", 0) - 1,
          f"invocations={st.get('invocations')} steps={steps}")
    check("f: with every epoch once", [e.get("epoch") for e in st.get("history", [])] == list(range(1, epochs + 1)),
          len(st.get("history", [])))

print(f"lifecycle: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
