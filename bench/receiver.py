"""``python -m bench.receiver PORT``: an app server that answers every callback at once.

Its own process, so its work does not share a GIL with the client being timed. It answers
``200 {"Status":"OK"}`` with a Content-Length, as OSS requires, and checks nothing.
"""

from __future__ import annotations

import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .procs import HOST

BODY = b'{"Status":"OK"}'


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    server = ThreadingHTTPServer((HOST, int(argv[0])), _Answer)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening", flush=True)
    server.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
