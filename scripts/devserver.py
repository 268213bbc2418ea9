#!/usr/bin/env python3
"""Local dev server: the Lambda emulator's HTTP front, with the functions supervised here.

cargo-lambda 1.9.2 applies `--timeout` to every route, the Runtime API long poll included: a
function idle that long gets an empty 408 to `next`, lambda_runtime panics on it, and the
emulator never starts the function again (nor one that died any other way), so every later
request hangs until the timeout. This script runs `cargo lambda watch --only-lambda-apis`
for the HTTP front, Invoke API and Runtime API, and runs the six function binaries itself
(the training worker as `--worker-instances` processes, default 3, so jobs train side by side
as Lambda's instances would):

- a Runtime API proxy (one loopback listener, `/<function>/<generation>/2018-06-01/...`)
  forwards each function's calls to the emulator's `/.rt/<function>/2018-06-01/...`. One
  poller thread per function polls `next` while the function waits, again at once on the
  idle 408, so the function never sees it. It remembers which process holds which request
  id; when a process dies before posting its response or error, it posts `Runtime.ExitError`
  for it, so the client gets a 500 at once. An event fetched for a process that died first
  is kept for its successor;
- each function is restarted when it exits (after 0.2 s if it had started up, else backing
  off to 5 s) and, unless --no-reload, when its binary changes (so `cargo build` in another
  terminal reloads it, as watch did);
- a blob server serves `GET/HEAD /blobs/<key>?expires=<unix s>&signature=<hex>` from
  `<data dir>/blobs/<key>`; signature = lowercase hex HMAC-SHA256(secret, key + "\n" +
  expires), the secret being 32 random bytes drawn at start (the HMAC key is those bytes;
  the functions get them hex-encoded in MLAAS_LOCAL_BLOB_SECRET); and takes
  `PUT /blobs/uploads/<key>?expires=&max_bytes=&signature=` (HMAC of "PUT\n" + key + "\n" +
  expires + "\n" + max_bytes), a dataset upload of at most max_bytes, as S3 takes a
  presigned PUT;

Files in `<data dir>/devserver/`: `<function>.pid`, `emulator.pid`, `devserver.pid`,
`blob-url`, `blob-secret` (0600, hex). Standard library only.

  scripts/devserver.py --address 127.0.0.1 --port 5000 --timeout 900 [--env-var K=V ...]
                       [--data-dir D] [--no-reload] [--blob-port N] [--worker-instances N]
"""
import argparse
import collections
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import secrets
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = "/2018-06-01/runtime"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
              "transfer-encoding", "content-length", "host"}
MAX_BODY = 16 * 1024 * 1024  # above Lambda's 6 MB payload limit, base64 included
_print_lock = threading.RLock()  # re-entrant: the signal handler logs too


def log(msg):
    with _print_lock:
        print(f"devserver {time.strftime('%H:%M:%S')} {msg}", flush=True)


def url_host(host):
    """A host for URLs to reach a listener bound to `host` from this machine."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def describe_exit(rc):
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def write_file(path, text, mode=0o644):
    """Atomically, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


# ---------------------------------------------------------------- project metadata

def workspace(root):
    """(function binary names, [workspace.metadata.lambda.env]) from the root Cargo.toml."""
    with open(root / "Cargo.toml", "rb") as f:
        meta = tomllib.load(f)
    names = []
    for member in meta["workspace"]["members"]:
        if not member.startswith("functions/"):
            continue
        with open(root / member / "Cargo.toml", "rb") as f:
            pkg = tomllib.load(f)
        bins = [b["name"] for b in pkg.get("bin", []) if "name" in b]
        names.extend(bins or [pkg["package"]["name"]])
    env = meta["workspace"].get("metadata", {}).get("lambda", {}).get("env", {})
    return names, {k: str(v) for k, v in env.items()}


def template_memory(path):
    """{binary: MemorySize} from template.yaml (resources without one get Globals')."""
    default, per_binary = None, {}
    section = resource = None
    binary = memory = None

    def flush():
        if binary:
            per_binary[binary] = memory

    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}, None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if indent == 0:
            flush()
            binary = memory = resource = None
            section = text.rstrip(":")
            continue
        if section == "Globals":
            m = re.match(r"MemorySize:\s*(\d+)", text)
            if m:
                default = int(m.group(1))
        elif section == "Resources":
            if indent == 2:
                flush()
                binary = memory = None
                resource = text
            elif resource:
                m = re.match(r"Binary:\s*([\w.-]+)", text)
                if m:
                    binary = m.group(1)
                m = re.match(r"MemorySize:\s*(\d+)", text)
                if m:
                    memory = int(m.group(1))
    flush()
    return {b: (m if m is not None else default) for b, m in per_binary.items()}, default


# ---------------------------------------------------------------- Runtime API proxy

class FunctionSlot:
    """What the proxy knows of one function: its live generation, the events fetched from the
    emulator and not yet handed out, and the request ids its processes are working on."""

    def __init__(self, name):
        self.name = name
        self.cond = threading.Condition()
        self.alive = set()          # generations whose process runs
        self.pids = {}              # generation -> pid
        self.polled = set()         # generations that reached `next` at least once
        self.events = collections.deque()  # parked (request id, HTTP response bytes)
        self.waiters = collections.deque()  # `next` calls waiting for an event
        self.inflight = {}          # request id -> generation holding it


class Waiter:
    """A function's `next` call waiting in the proxy. The poller writes the event straight to
    its connection (one thread wake fewer on the way to the function)."""

    def __init__(self, gen, sock, wfile):
        self.gen, self.sock, self.wfile = gen, sock, wfile
        self.done = False
        self.ok = False


class RuntimeProxy:
    def __init__(self, names, upstream, timeout):
        self.upstream = upstream    # (host, port) of the emulator
        self.poll_timeout = timeout + 60
        self.slots = {n: FunctionSlot(n) for n in names}
        self.local = threading.local()  # each handler thread's connection to the emulator
        self.stopping = False
        self.server = None

    def start(self, host="127.0.0.1", port=0):
        proxy = self

        class Handler(ProxyHandler):
            pass
        Handler.proxy = proxy
        self.server = QuietServer((host, port), Handler)
        threading.Thread(target=self.server.serve_forever, name="runtime-proxy", daemon=True).start()
        for slot in self.slots.values():
            threading.Thread(target=self._poller, args=(slot,), name=f"poll-{slot.name}", daemon=True).start()
        return self.server.server_address[1]

    def upstream_path(self, name, rest):
        return f"/.rt/{name}{rest}"

    # Called by the supervisor.
    def register(self, name, gen):
        slot = self.slots[name]
        with slot.cond:
            slot.alive.add(gen)

    def started(self, name, gen, pid):
        slot = self.slots[name]
        with slot.cond:
            slot.pids[gen] = pid

    def died(self, name, gen, reason):
        """The process of `gen` is gone: answer what it held, wake its waiting `next`.
        True if it had reached its first `next` (it started up)."""
        slot = self.slots[name]
        with slot.cond:
            had_polled = gen in slot.polled
            slot.alive.discard(gen)
            slot.pids.pop(gen, None)
            lost = [rid for rid, g in slot.inflight.items() if g == gen]
            for rid in lost:
                del slot.inflight[rid]
            # Died before it ever polled (start-up failure): events parked for it would
            # otherwise wait for a process that may never come.
            if gen not in slot.polled and slot.events:
                lost += [ev[0] for ev in slot.events]
                slot.events.clear()
            slot.polled.discard(gen)
            slot.cond.notify_all()
        for rid in lost:
            self.post_exit_error(name, rid, reason)
        return had_polled

    def post_exit_error(self, name, rid, reason):
        body = json.dumps({"errorType": "Runtime.ExitError",
                           "errorMessage": f"{name}: the function process ended ({reason}) during the request"}).encode()
        path = self.upstream_path(name, f"{RUNTIME}/invocation/{rid}/error")
        try:
            conns = []

            def get_conn(fresh):
                if fresh is None:
                    conns.clear()
                    return None
                conns[:] = [Upstream(self.upstream, 10)]
                return conns[0]
            status = exchange(get_conn, "POST", path, [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Function-Error-Type", "Runtime.ExitError")], body)[0]
            for c in conns:
                c.close()
            log(f"{name} died holding request {rid}: answered it with Runtime.ExitError (emulator: {status})")
        except (OSError, ConnectionError, ValueError) as e:
            log(f"{name} died holding request {rid}: could not post its error: {e}")

    # One thread per function: polls the emulator while a `next` call waits for an event.
    def _poller(self, slot):
        conn = None
        noted = set()
        path = self.upstream_path(slot.name, f"{RUNTIME}/invocation/next")
        while True:
            with slot.cond:
                while len(slot.waiters) <= len(slot.events) or self.stopping:
                    slot.cond.wait()
            try:
                if conn is None:
                    conn = Upstream(self.upstream, self.poll_timeout)
                conn.send("GET", path)
                status, _, headers, body, keep_alive = conn.read()
                if not keep_alive:
                    conn.close()
                    conn = None
            except (OSError, ConnectionError, ValueError) as e:
                if conn is not None:
                    conn.close()
                conn = None
                if not self.stopping and type(e).__name__ not in noted:
                    noted.add(type(e).__name__)
                    log(f"{slot.name}: Runtime API poll failed ({e!r}); retrying")
                time.sleep(0.2)
                continue
            rid = next((v for k, v in headers if k.lower() == "lambda-runtime-aws-request-id"), None)
            if status != 200 or not rid:
                # The idle 408 (the emulator's --timeout) is routine: poll again at once.
                if status != 408:
                    if status not in noted:
                        noted.add(status)
                        log(f"{slot.name}: emulator answered next with {status}; polling again")
                    time.sleep(0.1)
                continue
            self.deliver(slot, (rid, http_response(status, headers, body)))

    def usable(self, slot, gen, sock):
        # A process killed a moment ago still holds its socket open while the kernel tears it
        # down: an event written to it would go nowhere and be answered as an exit error
        # instead of by the restarted process.
        return (gen in slot.alive and not self.stopping and not peer_closed(sock)
                and not process_ending(slot.pids.get(gen)))

    def deliver(self, slot, ev):
        """Writes the event to a waiting `next` call, else parks it for the next one."""
        while True:
            with slot.cond:
                waiter = None
                while slot.waiters:
                    w = slot.waiters.popleft()
                    if self.usable(slot, w.gen, w.sock):
                        waiter = w
                        break
                    w.done = True
                if waiter is None:
                    slot.events.append(ev)
                    slot.cond.notify_all()
                    return
                slot.inflight[ev[0]] = waiter.gen
            try:
                waiter.wfile.write(ev[1])
                ok = True
            except OSError:
                ok = False
            with slot.cond:
                waiter.done, waiter.ok = True, ok
                slot.cond.notify_all()
                # Not written: try the next waiter, unless the supervisor already answered it.
                if ok or slot.inflight.pop(ev[0], None) is None:
                    return

    def next_event(self, slot, gen, sock, wfile):
        """Waits until an event for this function was written to the caller's connection
        (True), or the caller's process or connection is gone (False)."""
        with slot.cond:
            slot.polled.add(gen)
            w = Waiter(gen, sock, wfile)
            slot.waiters.append(w)
            slot.cond.notify_all()
            while not w.done:
                if w in slot.waiters and (slot.events or gen not in slot.alive or self.stopping):
                    slot.waiters.remove(w)
                    if not slot.events or not self.usable(slot, gen, sock):
                        return False
                    ev = slot.events.popleft()
                    slot.inflight[ev[0]] = gen
                    break
                slot.cond.wait(0.5)
                if not w.done and w in slot.waiters and peer_closed(sock):
                    slot.waiters.remove(w)
                    return False
            else:
                return w.ok
        try:
            wfile.write(ev[1])
            return True
        except OSError:
            with slot.cond:
                if slot.inflight.pop(ev[0], None) is not None:
                    slot.events.appendleft(ev)
                    slot.cond.notify_all()
            return False

    def finished(self, slot, rid):
        with slot.cond:
            slot.inflight.pop(rid, None)


class Upstream:
    """One keep-alive HTTP/1.1 connection to the emulator: a small client, cheaper per call
    than http.client."""

    def __init__(self, addr, timeout=60):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", 65536)
        self.host = f"{addr[0]}:{addr[1]}" if ":" not in addr[0] else f"[{addr[0]}]:{addr[1]}"
        self.used = False

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass

    def send(self, method, path, headers=(), body=b""):
        """`body`: bytes, or an iterable of chunks sent chunked as they come."""
        head = [f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"]
        head += [f"{k}: {v}\r\n" for k, v in headers]
        self.used = True
        if isinstance(body, bytes):
            head.append(f"Content-Length: {len(body)}\r\n\r\n")
            self.sock.sendall("".join(head).encode("latin-1") + body)
            return
        head.append("Transfer-Encoding: chunked\r\n\r\n")
        self.sock.sendall("".join(head).encode("latin-1"))
        for chunk in body:
            if chunk:
                self.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.sock.sendall(b"0\r\n\r\n")

    def probe(self, path):
        """A GET on a POST-only route: an immediate 405, see `exchange`."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode("latin-1"))

    def read(self):
        """(status, reason, headers, body, keep_alive) of the next response."""
        line = self.rfile.readline(65537)
        if not line:
            raise ConnectionError("the emulator closed the connection")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers, fields = [], {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise ConnectionError("response cut off")
            k, _, v = line.decode("latin-1").partition(":")
            k, v = k.strip(), v.strip()
            headers.append((k, v))
            fields[k.lower()] = v
        keep_alive = "close" not in fields.get("connection", "").lower() and version != "HTTP/1.0"
        if "chunked" in fields.get("transfer-encoding", "").lower():
            out = []
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out.append(self.rfile.read(size))
                self.rfile.readline(3)
            body = b"".join(out)
        elif "content-length" in fields:
            n = int(fields["content-length"])
            body = self.rfile.read(n)
            if len(body) != n:
                raise ConnectionError("response body cut off")
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body, keep_alive = self.rfile.read(), False
        return status, reason, headers, body, keep_alive


def exchange(get_conn, method, path, headers, body, between=None):
    """One call to the emulator: (status, reason, headers, body).

    The emulator answers a posted response or error before it has read the body, and hyper
    then reads the rest of that body only if something more happens on the connection: left
    idle, a body of some tens of kB never reaches the client; closed, a small one is cut off.
    lambda_runtime sends its next poll on the same connection, which is what completes it.
    So after the answer to a POST one more request goes on the connection (GET on the same,
    POST-only route: an immediate 405, sent only once the body is read). `between` runs after
    the probe is sent and before its answer is read (the function gets its answer then).
    `get_conn(fresh)` gives the connection; a reused one that turns out closed is retried
    once on a fresh one when nothing was answered (a streamed body cannot be)."""
    conn = get_conn(False)
    for attempt in (0, 1):
        reused = conn.used
        try:
            conn.send(method, path, headers, body)
            status, reason, rheaders, data, keep_alive = conn.read()
            break
        except (OSError, ConnectionError, ValueError):
            conn.close()
            if attempt or not reused or not isinstance(body, bytes):
                get_conn(None)
                raise
            conn = get_conn(True)
    probe = method == "POST" and keep_alive
    try:
        if probe:
            conn.probe(path)
    except OSError:
        probe = keep_alive = False
    try:
        if between:
            between(status, reason, rheaders, data)
    finally:
        if probe:
            try:
                keep_alive = conn.read()[4]
            except (OSError, ConnectionError, ValueError):
                keep_alive = False
        if not keep_alive:
            conn.close()
            get_conn(None)
    return status, reason, rheaders, data


def process_ending(pid):
    """True when `pid` is gone, exiting, or has a SIGKILL pending (Linux /proc)."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X", "x") or int(fields[6]) & 0x4:  # PF_EXITING
            return True
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("SigPnd:", "ShdPnd:")) and int(line.split()[1], 16) & (1 << (signal.SIGKILL - 1)):
                    return True
    except FileNotFoundError:
        return True
    except (OSError, ValueError, IndexError):
        return False
    return False


def peer_closed(sock):
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def http_response(status, headers, body, reason=None):
    reason = reason or http.client.responses.get(status, "")
    out = [f"HTTP/1.1 {status} {reason}\r\n"]
    out += [f"{k}: {v}\r\n" for k, v in headers if k.lower() not in HOP_BY_HOP]
    out.append(f"Content-Length: {len(body)}\r\n\r\n")
    return "".join(out).encode("latin-1") + body


INVOCATION = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")
PROXY_PATH = re.compile(r"^/([A-Za-z0-9_.-]+)/(\d+)(/.*)$")


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A function killed mid-connection is routine here; anything else is worth a line.
        err = sys.exc_info()[1]
        if not isinstance(err, OSError):
            log(f"{type(self).__name__}: {err!r} serving {client_address}")


class NoDelayHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass


class ProxyHandler(NoDelayHandler):
    proxy = None

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_DELETE = do_GET

    def reply(self, status, headers, body, reason=None):
        self.wfile.write(http_response(status, headers, body, reason))

    def route(self):
        m = PROXY_PATH.match(self.path)
        slot = self.proxy.slots.get(m.group(1)) if m else None
        if slot is None:
            self.reply(404, [("Content-Type", "text/plain")], b"unknown function\n")
            return
        gen, rest = int(m.group(2)), m.group(3)
        if self.command == "GET" and rest == f"{RUNTIME}/invocation/next":
            self.next(slot, gen)
        else:
            self.forward(slot, rest)

    def next(self, slot, gen):
        if not self.proxy.next_event(slot, gen, self.connection, self.wfile):
            self.close_connection = True

    def read_body(self):
        """The request body: bytes, or a generator of chunks for a chunked body."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            rfile = self.rfile

            def chunks():
                while True:
                    line = rfile.readline(65537)
                    if not line:
                        raise ConnectionError("chunked body cut off")
                    size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                            pass
                        return
                    data = rfile.read(size)
                    if len(data) != size:
                        raise ConnectionError("chunked body cut off")
                    rfile.readline(3)
                    yield data
            return chunks()
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError(f"body of {n} bytes")
        body = self.rfile.read(n) if n else b""
        if len(body) != n:
            raise ConnectionError("body cut off")
        return body

    def forward(self, slot, rest):
        try:
            body = self.read_body()
        except (OSError, ValueError) as e:
            # The function died mid-body (its supervisor answers the request) or sent junk.
            self.close_connection = True
            if isinstance(e, ValueError):
                self.reply(413, [("Content-Type", "text/plain")], f"{e}\n".encode())
            return
        m = INVOCATION.match(rest)
        if m and self.command == "POST":
            self.proxy.finished(slot, urllib.parse.unquote(m.group(1)))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        local = self.proxy.local

        def get_conn(fresh):
            if fresh is None:
                local.conn = None
                return None
            conn = getattr(local, "conn", None)
            if fresh or conn is None or peer_closed(conn.sock):
                if conn is not None:
                    conn.close()
                conn = local.conn = Upstream(self.proxy.upstream)
            return conn

        answered = []

        def answer(status, reason, rheaders, data):
            answered.append(True)
            self.reply(status, rheaders, data, reason)
        try:
            exchange(get_conn, self.command, self.proxy.upstream_path(slot.name, rest), headers, body, answer)
        except (OSError, ValueError) as e:
            if not answered:
                try:
                    self.reply(502, [("Content-Type", "text/plain")], f"emulator: {e}\n".encode())
                except OSError:
                    self.close_connection = True


# ---------------------------------------------------------------- blob server

BLOB_PART = re.compile(r"[A-Za-z0-9_.-]+")
CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".jsonl": "application/x-ndjson",
                 ".json": "application/json"}


def blob_signature(secret, key, expires):
    return hmac.new(secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def put_signature(secret, key, expires, max_bytes):
    """A PUT URL's: signed over the method and the size limit too, so a download URL cannot
    upload and an upload cannot grow."""
    return hmac.new(secret, f"PUT\n{key}\n{expires}\n{max_bytes}".encode(),
                    hashlib.sha256).hexdigest()


def valid_blob_key(key):
    parts = key.split("/")
    return all(BLOB_PART.fullmatch(p) and p not in (".", "..") for p in parts)


class BlobHandler(NoDelayHandler):
    root = None
    secret = None

    def plain(self, status, text, extra=()):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/blobs/"):
            return self.plain(404, "not found")
        key = urllib.parse.unquote(url.path[len("/blobs/"):])
        if not valid_blob_key(key):
            return self.plain(404, "not found")
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        expires = query.get("expires", [""])[0]
        signature = query.get("signature", [""])[0]
        if not re.fullmatch(r"[0-9]{1,15}", expires) or int(expires) <= time.time():
            return self.plain(403, "expired or missing expires")
        if not hmac.compare_digest(blob_signature(self.secret, key, expires).encode(), signature.encode()):
            return self.plain(403, "bad signature")
        path = os.path.realpath(os.path.join(self.root, key))
        if not path.startswith(os.path.realpath(self.root) + os.sep):
            return self.plain(404, "not found")
        try:
            f = open(path, "rb")
        except OSError:
            return self.plain(404, "not found")
        with f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return self.plain(404, "not found")
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPES.get(os.path.splitext(key)[1].lower(),
                                                               "application/octet-stream"))
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("Cache-Control", "private, no-store")
            self.end_headers()
            if self.command != "HEAD" and st.st_size:
                self.connection.sendfile(f, 0, st.st_size)

    do_HEAD = do_GET

    def do_PUT(self):
        """A dataset upload (`POST /v1/datasets/uploads`): `uploads/<key>` only, within the
        signed size, written whole or not at all."""
        url = urllib.parse.urlsplit(self.path)
        key = urllib.parse.unquote(url.path[len("/blobs/"):]) if url.path.startswith("/blobs/") else ""
        if not key.startswith("uploads/") or not valid_blob_key(key):
            return self.plain(404, "not found")
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        expires = query.get("expires", [""])[0]
        max_bytes = query.get("max_bytes", [""])[0]
        signature = query.get("signature", [""])[0]
        if not re.fullmatch(r"[0-9]{1,15}", expires) or int(expires) <= time.time():
            return self.plain(403, "expired or missing expires")
        if not re.fullmatch(r"[0-9]{1,15}", max_bytes):
            return self.plain(403, "missing max_bytes")
        if not hmac.compare_digest(put_signature(self.secret, key, expires, max_bytes).encode(),
                                   signature.encode()):
            return self.plain(403, "bad signature")
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self.plain(411, "Content-Length required")
        if int(length) > int(max_bytes):
            self.close_connection = True
            return self.plain(413, f"larger than the upload's {max_bytes} bytes")
        path = os.path.realpath(os.path.join(self.root, key))
        if not path.startswith(os.path.realpath(self.root) + os.sep):
            return self.plain(404, "not found")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = path + ".partial"
        left = int(length)
        with open(partial, "wb") as f:
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                f.write(chunk)
                left -= len(chunk)
        if left:
            os.unlink(partial)
            self.close_connection = True
            return self.plain(400, "the body ended early")
        os.replace(partial, path)
        self.plain(200, "stored")

    def do_POST(self):
        self.plain(405, "method not allowed", [("Allow", "GET, HEAD, PUT")])

    do_DELETE = do_PATCH = do_POST


# ---------------------------------------------------------------- supervisor

def _die_with_parent():
    """A preexec_fn that has the child get SIGTERM if the devserver is SIGKILLed (Linux), so a
    stray emulator does not keep the port. Used only before any thread is started."""
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


class Function:
    def __init__(self, sup, name, memory, instance=0):
        self.sup, self.name, self.memory = sup, name, memory
        self.binary = sup.target / name
        self.proc = None
        # Instances of one function share its proxy slot: their generations must not clash.
        self.instance = instance
        self.gen = instance * 1_000_000
        self.pid_file = f"{name}.pid" if instance == 0 else f"{name}.{instance}.pid"
        self.started_stat = None
        self.reloading = False
        self.thread = threading.Thread(target=self.run, name=f"fn-{name}-{instance}", daemon=True)

    def binary_stat(self):
        try:
            st = self.binary.stat()
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def run(self):
        sup, backoff, last = self.sup, 0.0, None
        missing_noted = False
        while not sup.stopping.is_set():
            ident = self.binary_stat()
            if ident is None:
                if not missing_noted:
                    log(f"{self.name}: {self.binary} is missing; waiting for a build")
                    missing_noted = True
                sup.stopping.wait(1.0)
                continue
            missing_noted = False
            self.gen += 1
            sup.proxy.register(self.name, self.gen)
            env = dict(sup.env)
            env.update({
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "1",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
                "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{sup.proxy_port}/{self.name}/{self.gen}",
                "AWS_LAMBDA_INSTANCE_ID": str(uuid.uuid4()),
            })
            self.started_stat = ident
            self.reloading = False
            started = time.monotonic()
            try:
                # Own process group: a terminal's Ctrl-C reaches only the devserver, which
                # then stops the functions itself (and does not restart them).
                proc = subprocess.Popen([str(self.binary)], env=env, cwd=ROOT,
                                        stdin=subprocess.DEVNULL, process_group=0)
            except OSError as e:
                sup.proxy.died(self.name, self.gen, f"could not start: {e}")
                log(f"{self.name}: could not start {self.binary}: {e}")
                backoff = min(max(backoff * 2, 0.5), 5.0)
                sup.stopping.wait(backoff)
                continue
            self.proc = proc
            sup.proxy.started(self.name, self.gen, proc.pid)
            write_file(sup.state_dir / self.pid_file, f"{proc.pid}\n")
            if last is None:
                log(f"start {self.name} (pid {proc.pid}, {self.memory} MB)")
            else:
                log(f"restart {self.name} (pid {proc.pid}) after {last}")
            rc = proc.wait()
            ran = time.monotonic() - started
            reason = describe_exit(rc)
            started_up = sup.proxy.died(self.name, self.gen, reason)
            try:
                (sup.state_dir / self.pid_file).unlink()
            except OSError:
                pass
            if sup.stopping.is_set():
                break
            if self.reloading:
                self.reloading = False
                last, backoff = "its binary changed", 0.0
                continue
            # One that had started up restarts at once; one that dies while starting (a crash
            # loop) backs off to 5 s.
            backoff = 0.2 if started_up else min(max(backoff * 2, 0.5), 5.0)
            last = f"pid {proc.pid} {reason} after {ran:.1f} s"
            log(f"{self.name} (pid {proc.pid}) {reason} after {ran:.1f} s; restarting in {backoff:.1f} s")
            sup.stopping.wait(backoff)

    def stop(self, sig=signal.SIGTERM):
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    def reload(self):
        self.reloading = True
        log(f"{self.name}: binary changed; restarting it")
        self.stop()
        proc = self.proc
        if proc is not None:
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                self.stop(signal.SIGKILL)


class Supervisor:
    def __init__(self, args):
        self.args = args
        self.stopping = threading.Event()
        self.exit_code = 0
        names, meta_env = workspace(ROOT)
        memory, default_memory = template_memory(ROOT / "template.yaml")
        target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
        self.target = (target if target.is_absolute() else ROOT / target) / "debug"

        cli_env = {}
        for item in args.env_var:
            k, sep, v = item.partition("=")
            if not sep or not k:
                sys.exit(f"devserver: --env-var wants KEY=VALUE, got {item!r}")
            cli_env[k] = v
        data = args.data_dir or cli_env.get("MLAAS_DATA_DIR") or os.environ.get("MLAAS_DATA_DIR") or ".mlaas"
        self.data_dir = Path(data) if Path(data).is_absolute() else ROOT / data
        self.state_dir = self.data_dir / "devserver"
        self.state_dir.mkdir(parents=True, exist_ok=True)

        self.emu_host = url_host(args.address)
        self.secret = secrets.token_bytes(32)
        # Precedence: inherited environment < Cargo.toml's lambda env < devserver's own
        # settings < --env-var; the AWS_LAMBDA_* variables are set per process.
        env = dict(os.environ)
        env.update(meta_env)
        env["MLAAS_WORKER_DISPATCH"] = (f"http://{self.emu_host}:{args.port}"
                                        "/2015-03-31/functions/training-worker/invocations")
        self.env = env
        self.cli_env = cli_env
        # The worker runs as several instances, as Lambda scales it out: a sweep's trials
        # train side by side, each in its own process.
        self.functions = [Function(self, n, memory.get(n) or default_memory or 4096, i)
                          for n in names
                          for i in range(args.worker_instances if n == "training-worker" else 1)]
        self.emulator = None

    def start_emulator(self):
        a = self.args
        env = dict(os.environ)
        tools = ROOT / ".venv" / "tools" / "bin"
        if (tools / "cargo-lambda").exists():
            env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
        cmd = ["cargo", "lambda", "watch", "--only-lambda-apis", "-A", a.address, "-P", str(a.port),
               "--timeout", str(a.timeout)]
        self.emulator = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                         process_group=0, preexec_fn=_die_with_parent())
        write_file(self.state_dir / "emulator.pid", f"{self.emulator.pid}\n")
        log(f"start emulator (pid {self.emulator.pid}): {' '.join(cmd)}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.emulator.poll() is not None:
                return False
            try:
                socket.create_connection((self.emu_host.strip("[]"), a.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def watch_emulator(self):
        rc = self.emulator.wait()
        if not self.stopping.is_set():
            log(f"emulator (pid {self.emulator.pid}) {describe_exit(rc)}; stopping")
            self.exit_code = 1
            self.stopping.set()

    def watch_binaries(self):
        pending = {}
        while not self.stopping.wait(1.0):
            for fn in self.functions:
                ident = fn.binary_stat()
                if ident is None or fn.started_stat is None or ident == fn.started_stat or fn.proc is None:
                    pending.pop(fn.name, None)
                    continue
                # Restart once the file has stayed the same for a second (cargo is done).
                if pending.get(fn.name) == ident:
                    del pending[fn.name]
                    fn.started_stat = ident
                    fn.reload()
                else:
                    pending[fn.name] = ident

    def run(self):
        a = self.args
        if any(not fn.binary.exists() for fn in self.functions):
            log("building the functions: cargo build --workspace --bins")
            subprocess.run(["cargo", "build", "--workspace", "--bins"], cwd=ROOT, check=False)

        if not self.start_emulator():
            rc = self.emulator.poll()
            log(f"the emulator did not start ({describe_exit(rc) if rc is not None else 'no answer'})")
            self.stop_emulator()
            return 1
        threading.Thread(target=self.watch_emulator, name="emulator", daemon=True).start()

        self.proxy = RuntimeProxy(sorted({fn.name for fn in self.functions}),
                                  (self.emu_host.strip("[]"), a.port), a.timeout)
        self.proxy_port = self.proxy.start()

        BlobHandler.root = str(self.data_dir / "blobs")
        BlobHandler.secret = self.secret
        blob_bind = a.address if a.address not in ("::",) else "127.0.0.1"
        blobs = QuietServer((blob_bind, a.blob_port), BlobHandler)
        threading.Thread(target=blobs.serve_forever, name="blobs", daemon=True).start()
        blob_url = f"http://{url_host(blob_bind)}:{blobs.server_address[1]}/blobs"
        write_file(self.state_dir / "blob-secret", self.secret.hex() + "\n", 0o600)
        write_file(self.state_dir / "blob-url", blob_url + "\n")
        write_file(self.state_dir / "devserver.pid", f"{os.getpid()}\n")

        self.env.update({"MLAAS_LOCAL_BLOB_URL": blob_url, "MLAAS_LOCAL_BLOB_SECRET": self.secret.hex()})
        self.env.update(self.cli_env)
        self.env["MLAAS_DATA_DIR"] = str(self.data_dir)
        for fn in self.functions:
            fn.thread.start()
        if not a.no_reload:
            threading.Thread(target=self.watch_binaries, name="reload", daemon=True).start()
        log(f"serving http://{self.emu_host}:{a.port} (Runtime API proxy 127.0.0.1:{self.proxy_port}, "
            f"blobs {blob_url}, data {self.data_dir})")

        while not self.stopping.wait(1.0):
            pass
        self.shutdown()
        return self.exit_code

    def stop_emulator(self):
        emu = self.emulator
        if emu is None:
            return
        if emu.poll() is None:
            try:
                os.killpg(emu.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                emu.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(emu.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                emu.wait()
        else:
            # Its process group may outlive it.
            try:
                os.killpg(emu.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def shutdown(self):
        log("stopping")
        self.stopping.set()
        for fn in self.functions:
            fn.stop()
        deadline = time.monotonic() + 3
        for fn in self.functions:
            if fn.proc is not None:
                try:
                    fn.proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    fn.stop(signal.SIGKILL)
                    fn.proc.wait()
        for fn in self.functions:
            fn.thread.join(2)
        self.proxy.stopping = True
        self.stop_emulator()
        for name in [fn.pid_file for fn in self.functions] + [
                "emulator.pid", "devserver.pid", "blob-url", "blob-secret"]:
            try:
                (self.state_dir / name).unlink()
            except OSError:
                pass
        log(f"stopped (exit {self.exit_code})")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", "-A", default="127.0.0.1", help="address of the HTTP front (default 127.0.0.1)")
    p.add_argument("--port", "-P", type=int, default=5000, help="port of the HTTP front (default 5000)")
    p.add_argument("--timeout", type=int, default=900, help="the emulator's request timeout in seconds (default 900)")
    p.add_argument("--env-var", action="append", default=[], metavar="KEY=VALUE",
                   help="an environment variable for every function (repeatable; one per flag)")
    p.add_argument("--data-dir", help="MLAAS_DATA_DIR for the functions and the blob server (default .mlaas)")
    p.add_argument("--blob-port", type=int, default=int(os.environ.get("BLOB_PORT") or 0),
                   help="port of the blob server (default BLOB_PORT, else a free one)")
    p.add_argument("--worker-instances", type=int, default=int(os.environ.get("MLAAS_WORKER_INSTANCES") or 3),
                   help="training-worker processes, each taking one invocation at a time "
                        "(default MLAAS_WORKER_INSTANCES, else 3)")
    p.add_argument("--no-reload", "--ignore-changes", action="store_true",
                   help="do not restart a function when its binary changes")
    args = p.parse_args()

    sup = Supervisor(args)

    def on_signal(signum, _frame):
        if not sup.stopping.is_set():
            log(f"{signal.Signals(signum).name} received")
        sup.stopping.set()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        rc = sup.run()
    except BaseException:
        sup.stopping.set()
        if getattr(sup, "proxy", None) is not None:
            sup.shutdown()
        else:
            sup.stop_emulator()
        raise
    sys.exit(rc)


if __name__ == "__main__":
    main()
