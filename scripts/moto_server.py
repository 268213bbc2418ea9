"""moto_server, one request at a time.

DynamoDB applies each write to an item atomically, so of two concurrent conditional updates
only one can pass. moto's threaded server evaluates the condition and writes without a lock,
so under concurrency both pass, and the store contract's atomicity tests (rate windows,
compare-and-set claims) would be testing moto's race instead of our code. A lock around each
request restores DynamoDB's guarantee (more strictly: one request at a time overall).

Usage: moto_server.py HOST PORT  (run with the .venv/tools interpreter)
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def serialized(app):
    lock = threading.Lock()

    def wrapped(environ, start_response):
        with lock:
            # Drain the body inside the lock: a lazily produced response would otherwise
            # read backend state after the lock is released.
            return list(app(environ, start_response))

    return wrapped


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host,
        port,
        serialized(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
