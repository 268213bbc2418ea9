"""The Python client's overhead per call against raw `requests` and raw `httpx`, on the same
running service (`bench/run client` starts one). Each side makes N sequential calls of
GET /health and GET /v1/ai/status (the server runs with MLAAS_RATE_LIMITS=off: a burst
would otherwise be answered 429, and the client would wait out each Retry-After; any non-200
stops the run), over one kept-alive connection (a requests.Session, an httpx.Client, the client's own httpx.Client); the table
gives the median and p95 per call and the client's median minus each raw one.

    python bench/client_overhead.py BASE_URL [N]
"""
import statistics
import sys
import time

import httpx
import requests

from mlaas import MLTrainingAPI


def timed(call, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1e6)
    out.sort()
    return statistics.median(out), out[int(0.95 * (len(out) - 1))]


def main(base, n):
    session = requests.Session()
    raw_httpx = httpx.Client(base_url=base)
    api = MLTrainingAPI(base)
    rows = []
    for path, method in (("/health", "health"), ("/v1/ai/status", "get_service_status")):
        # Warm every connection first.
        for _ in range(20):
            assert session.get(base + path).status_code == 200
            assert raw_httpx.get(path).status_code == 200
            getattr(api, method)()
        def ok(r):
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
            return r.json()

        sides = {
            "requests.Session": timed(lambda: ok(session.get(base + path)), n),
            "httpx.Client": timed(lambda: ok(raw_httpx.get(path)), n),
            f"mlaas.{method}()": timed(lambda: getattr(api, method)(), n),
        }
        ours = sides[f"mlaas.{method}()"][0]
        for name, (p50, p95) in sides.items():
            rows.append((path, name, p50, p95, ours - p50))
    print(f"| route | caller | median µs | p95 µs | mlaas median − this |")
    print("|---|---|---|---|---|")
    for path, name, p50, p95, d in rows:
        print(f"| `GET {path}` | {name} | {p50:.0f} | {p95:.0f} | {d:+.0f} |")
    print(f"\n{n} calls per caller and route; requests {requests.__version__}, httpx {httpx.__version__}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), int(sys.argv[2]) if len(sys.argv) > 2 else 500)
