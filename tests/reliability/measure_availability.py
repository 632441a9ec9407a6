"""Measure whether ``ossemu serve`` keeps serving under all of issue 15's slow attacks at once.

    .venv/bin/python -m tests.reliability.measure_availability [--seconds 30] [--scale 1]
        [-- SERVE ARGS]

Starts the default ``ossemu serve`` (extra arguments after ``--`` go to it), then runs, together:

- 200 sockets that send a partial request head and stop;
- 40 uploads that send one body byte every 5 s;
- 64 uploads in a loop whose app server answers the callback after 4 s;
- 24 uploads in a loop with 5 callback URLs each that accept and never answer;
- 32 uploads in a loop whose callback URL is the emulator itself;

and meanwhile a health check and a 4 KiB PUT then GET loop, each on its own connection with a
10 s timeout. Prints p50/p99/max of each and the errors (a timeout or a status other than 200).
``--scale`` multiplies every attack's count (a test runs it at a tenth).
"""

from __future__ import annotations

import argparse
import http.server
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.reliability.helpers import BUCKET, ServeProcess, raw_request, signed_headers
from tests.support import SilentAppServer, b64json, target, wire

WAIT = 10.0


class _SlowApp(http.server.ThreadingHTTPServer):
    """An app server that answers each callback after ``delay`` seconds."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        delay_ = delay

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay_)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/cb"


class Stats:
    def __init__(self, name: str) -> None:
        self.name = name
        self.waits: list[float] = []
        self.errors: list[str] = []

    def timed(self, call: Callable[[], int]) -> None:
        start = time.monotonic()
        try:
            status = call()
        except OSError as e:
            self.errors.append(type(e).__name__)
        else:
            if status != 200:
                self.errors.append(str(status))
        self.waits.append(time.monotonic() - start)

    def line(self) -> str:
        w = sorted(self.waits)
        if not w:
            return f"{self.name}: no samples"
        p99 = w[min(len(w) - 1, int(len(w) * 0.99))]
        return (
            f"{self.name}: n={len(w)} p50={statistics.median(w) * 1000:.0f} ms "
            f"p99={p99 * 1000:.0f} ms max={w[-1] * 1000:.0f} ms errors={len(self.errors)}"
            + (f" {sorted(set(self.errors))}" if self.errors else "")
        )


def _request(port: int, method: str, key: str | None, body: bytes = b"", **kw: object) -> int:
    return raw_request(port, method, BUCKET, key, body=body, timeout=WAIT, **kw).status


def _health(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(b"GET /_ossemu/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = s.recv(64)
        while s.recv(65536):
            pass
    return int(head.split()[1])


def _partial_heads(port: int, n: int, stop: threading.Event) -> None:
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /_ossemu/health HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    while not stop.wait(1):
        for i, s in enumerate(held):  # one the server closed is opened again
            try:
                s.setblocking(False)
                gone = s.recv(1) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                s.close()
                held[i] = socket.create_connection(("127.0.0.1", port))
                held[i].sendall(b"GET /_ossemu/health HTTP/1.1\r\nHost: x\r\n")
    for s in held:
        s.close()


def _trickle_head(port: int, key: str) -> socket.socket:
    headers = signed_headers("PUT", BUCKET, key, (), {"Content-Length": "1000"})
    head = f"PUT {target(BUCKET, key, ())} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(wire(head))
    return s


def _tricklers(port: int, n: int, stop: threading.Event, cut: list[int]) -> None:
    socks = [_trickle_head(port, f"trickle-{i}") for i in range(n)]
    while not stop.wait(5):
        for i, s in enumerate(socks):
            try:
                s.sendall(b"x")
            except OSError:  # cut off by the server: count it, and start another
                cut[0] += 1
                s.close()
                socks[i] = _trickle_head(port, f"trickle-{i}")
    for s in socks:
        s.close()


def _uploader(port: int, urls: str, key: str, stop: threading.Event, done: list[int]) -> None:
    callback = b64json({"callbackUrl": urls, "callbackBody": "k=${object}"})
    while not stop.is_set():
        try:
            raw_request(
                port,
                "PUT",
                BUCKET,
                key,
                headers={"x-oss-callback": callback},
                body=b"1",
                timeout=120,
            )
            done[0] += 1
        except (OSError, AssertionError):  # refused, cut off, or the server stopped
            time.sleep(0.5)


def measure(seconds: float, serve_args: list[str], scale: float = 1.0) -> list[str]:
    with tempfile.TemporaryDirectory() as root:
        serve = ServeProcess(Path(root) / "data", *serve_args)
        port = serve.port
        try:
            raw_request(port, "PUT", BUCKET, None)
            stop = threading.Event()
            slow, silent = _SlowApp(4.0), SilentAppServer()
            self_url = f"http://127.0.0.1:{port}/{BUCKET}/self-target"
            done = {"slow": [0], "silent": [0], "self": [0]}
            cut = [0]
            threads = [
                threading.Thread(target=_partial_heads, args=(port, round(200 * scale), stop)),
                threading.Thread(target=_tricklers, args=(port, round(40 * scale), stop, cut)),
            ]
            for name, urls, n in [
                ("slow", slow.url, 64),
                ("silent", ";".join([silent.url] * 5), 24),
                ("self", self_url, 32),
            ]:
                threads += [
                    threading.Thread(
                        target=_uploader, args=(port, urls, f"{name}-{i}", stop, done[name])
                    )
                    for i in range(max(1, round(n * scale)))
                ]
            for t in threads:
                t.daemon = True
                t.start()
            time.sleep(2)  # let the attack take hold
            health, put, get = Stats("health"), Stats("PUT 4 KiB"), Stats("GET 4 KiB")
            body = b"v" * 4096
            end = time.monotonic() + seconds
            n = 0
            while time.monotonic() < end:
                health.timed(lambda: _health(port))
                key = f"loop-{n % 16}"
                put.timed(lambda k=key: _request(port, "PUT", k, body))
                get.timed(lambda k=key: _request(port, "GET", k))
                n += 1
                time.sleep(0.05)
            stop.set()
            return [
                f"serve args: {' '.join(serve_args) or '(defaults)'}; {seconds:.0f} s under attack",
                health.line(),
                put.line(),
                get.line(),
                f"attack: trickling uploads cut off {cut[0]}; callback uploads answered: "
                + ", ".join(f"{k} {v[0]}" for k, v in done.items()),
            ]
        finally:
            serve.kill()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    serve_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, serve_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    for line in measure(args.seconds, serve_args, args.scale):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
