"""The dashboard (`GET /ui`) in a real browser: Debian's chromium, headless, driven over the
DevTools protocol.

Against a running service with client keys on (scripts/ui-test starts one), it uploads
scikit-learn's breast-cancer table, trains a gbm and an MLP model on it, generates a synthetic
dataset, then checks in the browser that:
* without a key the page asks for one and shows no data;
* after the key is typed, the models list shows the trained model and the datasets list both
  datasets;
* the model page draws its learning curves, the confusion heatmap and the importances, and
  its predict form answers;
* a dataset page shows the five-row preview and histograms; the usage page draws its charts;
  compare overlays two models' curves (the compare endpoint) and names the settings that differ;
* the model page fits a 400 px wide window without sideways scrolling.
Screenshots of each page go to target/ui/. Prints the page's first contentful paint (the
target lives in BENCHMARKS.md, not here).

usage: ui_check.py <base url> <client key>
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

BASE, KEY = sys.argv[1].rstrip("/"), sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHOTS = os.path.join(ROOT, "target", "ui")
failures = []


def call(method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + KEY, "Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + "ui: " + name + ("" if ok else f" ({detail})"), flush=True)
    if not ok:
        failures.append(name)


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="ui-chromium-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = int(open(port_file).read().split("\n")[0])
        pages = []
        for _ in range(100):
            pages = [t for t in json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
                     if t["type"] == "page"]
            if pages:
                break
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression):
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def wait(self, expression, seconds=20):
        end = time.time() + seconds
        while time.time() < end:
            try:
                if self.js(expression):
                    return True
            except RuntimeError:
                pass
            time.sleep(0.1)
        return False

    def go(self, url):
        self.send("Page.navigate", url=url)

    def shot(self, name, whole=True):
        os.makedirs(SHOTS, exist_ok=True)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=whole)["data"]
        with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def main():
    csv = open(os.path.join(ROOT, "tests", "fixtures", "breast_cancer.csv"), "rb").read()
    dataset = call("POST", "/v1/datasets?name=ui-breast-cancer&target=diagnosis", csv, "text/csv")
    model = call("POST", "/v1/models/train", {
        "model_config": {"name": "ui trees", "type": "classification", "architecture": "gbm",
                         "dataset": dataset["id"], "target_accuracy": 0.9},
        "training_config": {"seed": 3}})
    mid = model["model_id"]
    second = call("POST", "/v1/models/train", {
        "model_config": {"name": "ui mlp", "type": "classification", "architecture": "mlp",
                         "dataset": dataset["id"]},
        "training_config": {"seed": 3, "epochs": 8}})["model_id"]
    for trained in (mid, second):
        for _ in range(600):
            st = call("GET", f"/v1/models/{trained}/status")
            if st["model_status"] in ("completed", "failed", "stopped"):
                break
            time.sleep(0.2)
        check(f"model {trained} trained", st["model_status"] == "completed", st["model_status"])
    synthetic = call("POST", "/v1/ai/synthetic-data", {"model_description": "fraud", "target_count": 300,
                                                       "name": "ui-synthetic", "seed": 5})
    sid = synthetic["synthetic_data"]["dataset_id"]

    b = Browser()
    try:
        b.go(BASE + "/ui#/models")
        check("without a key the page asks for one",
              b.wait("document.getElementById('key-dialog').open && !!document.getElementById('needs-key')"))
        check("and shows no data", not b.js("document.querySelectorAll('.model-link').length"))
        b.shot("key-prompt")
        paint = b.js("(performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint') || {}).startTime")
        print(f"ui: first contentful paint {paint if paint is None else round(paint)} ms", flush=True)

        b.js(f"document.getElementById('key-input').value = {json.dumps(KEY)};"
             "document.getElementById('key-form').requestSubmit(); true")
        check("with the key the list shows the model",
              b.wait(f"[...document.querySelectorAll('.model-link')].some(a => a.textContent === 'ui trees')"))
        check("the list shows its status and accuracy",
              b.wait("document.querySelector('#models td .status.completed') !== null"))
        b.shot("models")

        b.go(BASE + f"/ui#/models/{mid}")
        check("the model page draws its curves",
              b.wait("document.querySelectorAll('svg.curve path[data-series]').length >= 4"))
        check("with the target accuracy line", b.js("!!document.querySelector('svg.curve .target-line')"))
        check("the confusion heatmap and importances",
              b.wait("!!document.querySelector('svg.heatmap') && !!document.querySelector('svg.bars')"))
        check("the status timeline", b.js("document.querySelectorAll('ol.timeline li').length >= 3"))
        check("the predict form", b.wait("!!document.getElementById('predict-form')"))
        b.js("document.getElementById('predict-form').requestSubmit(); true")
        check("predict answers from the page",
              b.wait("/label|value/.test(document.getElementById('prediction').textContent)"),
              b.js("document.getElementById('prediction').textContent"))
        b.shot("model")
        b.js("window.scrollTo(0, 0); true")
        b.shot("model-first-screen", whole=False)
        b.send("Emulation.setDeviceMetricsOverride", width=400, height=900, deviceScaleFactor=1, mobile=True)
        b.go(BASE + f"/ui#/compare?ids={mid}")
        b.go(BASE + f"/ui#/models/{mid}")
        b.wait("document.querySelectorAll('svg.curve path[data-series]').length >= 4")
        b.wait("!!document.getElementById('predict-form')")
        check("the model page fits 400 px", b.js("document.documentElement.scrollWidth <= 400"),
              b.js("[document.documentElement.scrollWidth, ...[...document.querySelectorAll('main *')]"
                   ".filter(e => e.getBoundingClientRect().right > 401).slice(0, 5).map(e => e.tagName + '.' + e.className)].join(' ')"))
        b.shot("model-400px")
        b.send("Emulation.clearDeviceMetricsOverride")

        b.go(BASE + "/ui#/datasets")
        check("the datasets list shows both datasets",
              b.wait("['ui-breast-cancer', 'ui-synthetic'].every(n => [...document.querySelectorAll('.dataset-link')].some(a => a.textContent === n))"))
        b.shot("datasets")
        b.go(BASE + f"/ui#/datasets/{dataset['id']}")
        check("a dataset page shows five preview rows",
              b.wait("document.querySelectorAll('#preview tbody tr').length === 5"))
        check("and a histogram per column", b.wait("document.querySelectorAll('#histograms svg.bars').length >= 31"))
        check("and its download links", b.js("document.querySelectorAll('a.download').length === 3"))
        check("which fetch with the key",
              b.js("Promise.all([...document.querySelectorAll('a.download')].map(a => api(a.getAttribute('href'), {raw: true}).then(r => r.ok))).then(all => all.every(Boolean))"))
        b.shot("dataset")
        b.go(BASE + f"/ui#/datasets/{sid}")
        check("a generated dataset shows its quality", b.wait("document.body.textContent.includes('diversity_score')"))

        b.go(BASE + "/ui#/usage")
        check("the usage page draws its charts",
              b.wait("document.querySelectorAll('#usage-charts svg.curve').length === 3"))
        b.shot("usage")
        b.go(BASE + f"/ui#/compare?ids={mid},{second}")
        check("compare overlays both models' curves",
              b.wait("document.querySelectorAll('#compare-charts svg.curve path[data-series]').length === 2"))
        check("and names the settings that differ",
              b.wait("document.getElementById('compare-charts').textContent.includes('model_config.architecture')"))
        b.shot("compare")
    finally:
        b.close()
    if failures:
        sys.exit(f"ui: {len(failures)} checks failed: {failures}")
    print(f"ui: screenshots in {SHOTS}")


main()
