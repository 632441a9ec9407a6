"""``python -m bench.serve_app APP SERVER``: the floor app, or ossemu under a WSGI server that
``ossemu serve`` does not offer (cheroot, waitress), for the serving comparison.

Prints one line when it accepts connections; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ossemu.emulator.server import listen, serve_gunicorn

from .procs import HOST


def _build(app: str, data_dir: Path) -> Any:
    if app.startswith("floor"):
        from .floor_app import create_floor_app

        return create_floor_app(data_dir, fsync=app == "floor-fsync")
    from ossemu.emulator import logs
    from ossemu.emulator.app import create_app
    from ossemu.emulator.config import EmulatorConfig

    logs.configure()
    return create_app(EmulatorConfig.from_env(data_dir=data_dir, host=HOST))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.serve_app")
    p.add_argument("app", choices=["floor", "floor-fsync", "ossemu"])
    p.add_argument("server", choices=["werkzeug", "gunicorn", "cheroot", "waitress"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=16)
    args = p.parse_args(argv)
    listener = listen(HOST, args.port)
    ready = f"listening on http://{HOST}:{args.port}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.server == "gunicorn":
        return serve_gunicorn(
            lambda: _build(args.app, args.data_dir),
            listener,
            workers=args.workers,
            threads=args.threads,
            on_ready=lambda: print(ready, flush=True),
        )
    app = _build(args.app, args.data_dir)
    if args.server == "werkzeug":
        from werkzeug.serving import make_server

        from ossemu.emulator.server import _QuietHandler

        server = make_server(
            HOST,
            args.port,
            app,
            threaded=True,
            request_handler=_QuietHandler,
            fd=listener.fileno(),
        )
        print(ready, flush=True)
        server.serve_forever()
    elif args.server == "cheroot":
        from cheroot.wsgi import Server

        listener.close()
        cheroot = Server((HOST, args.port), app, numthreads=args.threads)
        cheroot.prepare()
        print(ready, flush=True)
        try:
            cheroot.serve()
        finally:
            cheroot.stop()
    else:
        from waitress import create_server

        waitress = create_server(app, sockets=[listener], threads=args.threads)
        print(ready, flush=True)
        waitress.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
