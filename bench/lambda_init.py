"""Init time of each Lambda function: process start to first answered request.

Serves the Lambda Runtime API on loopback (this script plays the Lambda service), starts the
function binary, hands it one API Gateway v2 event from events/, and stops the clock when the
function posts its response. Repeated per function, with the embedded SQLite store and with
DynamoDB (moto_server on loopback, tables as template.yaml declares them).

Also measured, to read the rows against: the floor (`hello`, a hello-world function on the
same runtime crates and profile, bench/src/bin/hello_lambda.rs) and moto_server's own time per
call (GetItem, and the rate limiter's conditional UpdateItem, warm, from boto3).

usage: lambda_init.py <directory with the release binaries> [runs]
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
EVENTS = {
    "system": "events/http-health.json",
    "models": "events/http-list-models.json",
    "synthetic-data": "events/http-list-datasets.json",
    "analyze": "events/http-analyze.json",
    "enhance": "events/http-enhance.json",
    "hello": "events/http-health.json",
}
BINARIES = {"hello": "hello_lambda"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Invocation:
    def __init__(self, event):
        self.event = event
        self.served = False
        self.answered = threading.Event()
        self.answer_at = None
        self.answer = None
        self.stop = threading.Event()


def runtime_api(inv):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.endswith("/runtime/invocation/next"):
                self.send_error(404)
                return
            if inv.served:
                inv.stop.wait(30)  # a second poll: the function is idle now, and is killed
                return
            inv.served = True
            body = inv.event.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request-1")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            if "/response" in self.path or "/error" in self.path:
                inv.answer_at = time.perf_counter()
                inv.answer = (self.path, data)
                inv.answered.set()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the killed function's idle poll drops its connection: expected

    port = free_port()
    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


RUN = 0


def one_run(function, env):
    global RUN
    RUN += 1
    # A new client per run: each first request also counts in its own rate-limit window,
    # as a real first request does, instead of the runs exhausting one client's limit.
    event = json.load(open(os.path.join(ROOT, EVENTS[function])))
    event["requestContext"]["http"]["sourceIp"] = f"10.{RUN // 65536 % 256}.{RUN // 256 % 256}.{RUN % 256}"
    event = json.dumps(event)
    inv = Invocation(event)
    server, port = runtime_api(inv)
    full_env = dict(os.environ)
    full_env.update(env)
    full_env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "AWS_REGION": "us-east-1",
        "RUST_LOG": "info",
    })
    started = time.perf_counter()
    proc = subprocess.Popen([os.path.join(BIN_DIR, BINARIES.get(function, function))], env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = inv.answered.wait(30)
    inv.stop.set()
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok:
        raise SystemExit(f"{function}: no response")
    path, data = inv.answer
    response = json.loads(data)
    if "/error" in path or response.get("statusCode") != 200:
        raise SystemExit(f"{function}: bad response {path} {data[:300]!r}")
    return (inv.answer_at - started) * 1000.0


def measure(function, store, env):
    one_run(function, env)  # page cache warm, SQLite file created
    times = sorted(one_run(function, env) for _ in range(RUNS))
    print(json.dumps({
        "function": function, "store": store, "runs": RUNS,
        "init_to_first_response_ms": {
            "p50": round(statistics.median(times), 2),
            "p90": round(times[int(0.9 * (len(times) - 1))], 2),
            "min": round(times[0], 2),
        },
    }), flush=True)


def start_moto():
    port = free_port()
    moto = os.path.join(ROOT, ".venv/tools/bin/moto_server")
    proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/")
            break
        except OSError:
            time.sleep(0.1)
    import boto3  # moto's own dependency, in the same virtual environment
    ddb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    s = lambda n: {"AttributeName": n, "AttributeType": "S"}
    ddb.create_table(TableName="models", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[s("id"), s("list_key")],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by_created", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "list_key", "KeyType": "HASH"},
                                                            {"AttributeName": "id", "KeyType": "RANGE"}]}])
    ddb.create_table(TableName="jobs", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[s("id")],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.create_table(TableName="meta", BillingMode="PAY_PER_REQUEST", AttributeDefinitions=[s("pk"), s("sk")],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    return proc, url


def moto_call_times(url):
    """moto_server's latency per call, warm, from boto3 (whose own share is well under 1 ms)."""
    import boto3
    ddb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    key = {"pk": {"S": "bench"}, "sk": {"S": "moto"}}
    ddb.put_item(TableName="meta", Item=key)
    calls = {
        "GetItem": lambda: ddb.get_item(TableName="meta", Key=key),
        "UpdateItem (conditional ADD)": lambda: ddb.update_item(
            TableName="meta", Key=key, UpdateExpression="ADD n :one",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "1000000000"}}),
    }
    for name, call in calls.items():
        for _ in range(20):
            call()
        times = []
        for _ in range(200):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000.0)
        times.sort()
        print(json.dumps({"moto_server_call": name, "runs": 200,
                          "ms": {"p50": round(statistics.median(times), 2), "min": round(times[0], 2)}}),
              flush=True)


def main():
    with tempfile.TemporaryDirectory() as data:
        for function in EVENTS:
            measure(function, "sqlite" if function != "hello" else "none", {"MLAAS_DATA_DIR": data})
    moto, url = start_moto()
    try:
        moto_call_times(url)
        env = {"MLAAS_MODELS_TABLE": "models", "MLAAS_JOBS_TABLE": "jobs", "MLAAS_META_TABLE": "meta",
               "AWS_ENDPOINT_URL_DYNAMODB": url, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing"}
        for function in EVENTS:
            if function != "hello":
                measure(function, "dynamodb", env)
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
