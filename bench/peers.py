"""Start and stop every server measured: ossemu, moto, s3rver, the Flask floor, nginx.

Each runs as its own process on 127.0.0.1 with its data in a fresh directory, and each takes
requests the way its users send them: ossemu checks the V1 signature of every request, the S3
peers run path style with unsigned requests, the floor and nginx take plain PUT and GET.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from .procs import HOST, Proc, free_port
from .signing import Targets
from .tools import Tools

KEY_ID = "ossemu-dev-key"
SECRET = "ossemu-dev-secret"
SERVERS = ("gunicorn", "werkzeug", "cheroot", "waitress")
MOTO_AUTH = (
    "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


@dataclass(frozen=True)
class Spec:
    """What to start: ``kind`` (ossemu, floor, floor-fsync, moto, s3rver, nginx) and, for the
    Python apps, the WSGI server with its processes and threads."""

    kind: str
    server: str = ""
    workers: int = 1
    threads: int = 16

    @property
    def label(self) -> str:
        if self.kind in ("ossemu", "floor", "floor-fsync"):
            shape = f" {self.workers}x{self.threads}" if self.server != "werkzeug" else ""
            return f"{self.kind} [{self.server}{shape}]"
        return self.kind


class Peer:
    """A running server; ``stop()`` ends it."""

    def __init__(self, spec: Spec, proc: Proc, port: int, data_dir: Path, targets: Targets):
        self.spec = spec
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.targets = targets

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def create_bucket(self, name: str) -> None:
        if self.spec.kind == "nginx":
            (self.data_dir / "www" / name).mkdir(parents=True, exist_ok=True)
            return
        path = self.targets.path("PUT", name, "") if self.targets.signed else f"/{name}"
        resp = requests.put(self.url + path, headers=self.targets.headers, timeout=30)
        if resp.status_code >= 300:
            raise RuntimeError(f"{self.spec.label}: PUT bucket {resp.status_code} {resp.text}")

    def stop(self) -> int | None:
        return self.proc.stop()


def start(spec: Spec, tools: Tools, out: Path) -> Peer:
    """Start ``spec`` with an empty data dir under ``out``; returns once it answers."""
    name = spec.label.replace(" ", "_").replace("[", "").replace("]", "")
    data_dir = out / "data" / name
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    port = free_port()
    starter = {
        "ossemu": _ossemu,
        "floor": _floor,
        "floor-fsync": _floor,
        "moto": _moto,
        "s3rver": _s3rver,
        "nginx": _nginx,
    }[spec.kind]
    proc = starter(spec, tools, port, data_dir, out / "logs")
    try:
        proc.wait_for_port(port)
    except BaseException:
        proc.stop()
        raise
    if spec.kind == "ossemu":
        targets = Targets((KEY_ID, SECRET))
    else:
        targets = Targets(headers={"Authorization": MOTO_AUTH} if spec.kind == "moto" else None)
    return Peer(spec, proc, port, data_dir, targets)


def _python_server(spec: Spec, app: str, port: int, data_dir: Path, logs: Path) -> Proc:
    argv = [sys.executable, "-m", "bench.serve_app", app, spec.server, "--port", str(port)]
    argv += ["--data-dir", str(data_dir), "--workers", str(spec.workers)]
    argv += ["--threads", str(spec.threads)]
    proc = Proc(spec.label, argv, logs, cwd=Path(__file__).resolve().parent.parent)
    proc.read_line()
    return proc


def _ossemu(spec: Spec, tools: Tools, port: int, data_dir: Path, logs: Path) -> Proc:
    if spec.server not in ("gunicorn", "werkzeug"):
        return _python_server(spec, "ossemu", port, data_dir, logs)
    argv = [sys.executable, "-m", "ossemu.emulator", "serve", "--server", spec.server]
    argv += ["--port", str(port), "--data-dir", str(data_dir)]
    argv += ["--workers", str(spec.workers), "--threads", str(spec.threads)]
    proc = Proc(
        spec.label, argv, logs, env={"OSS_ACCESS_KEY_ID": KEY_ID, "OSS_ACCESS_KEY_SECRET": SECRET}
    )
    line = proc.read_line()
    if not line.startswith("ossemu listening on"):
        proc.stop()
        raise RuntimeError(f"unexpected startup line {line!r}")
    return proc


def _floor(spec: Spec, tools: Tools, port: int, data_dir: Path, logs: Path) -> Proc:
    return _python_server(spec, spec.kind, port, data_dir, logs)


def _moto(spec: Spec, tools: Tools, port: int, data_dir: Path, logs: Path) -> Proc:
    argv = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    return Proc("moto", argv, logs, cwd=data_dir)


def _s3rver(spec: Spec, tools: Tools, port: int, data_dir: Path, logs: Path) -> Proc:
    assert tools.s3rver is not None
    argv = [*tools.s3rver, "-d", str(data_dir), "-a", HOST, "-p", str(port), "--silent"]
    return Proc("s3rver", argv, logs)


_NGINX_CONF = """
daemon off;
user root;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_max_body_size 0;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen {host}:{port};
    root {dir}/www;
    location / {{ dav_methods PUT; create_full_put_path on; }}
  }}
}}
"""


def _nginx(spec: Spec, tools: Tools, port: int, data_dir: Path, logs: Path) -> Proc:
    assert tools.nginx is not None
    (data_dir / "www").mkdir()
    conf = data_dir / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(dir=data_dir, host=HOST, port=port))
    argv = [tools.nginx, "-e", str(data_dir / "error.log"), "-p", str(data_dir), "-c", str(conf)]
    return Proc("nginx", argv, logs)


def wait_quiet(seconds: float = 0.5) -> None:
    """Let the previous run's sockets and writeback settle before the next measurement."""
    time.sleep(seconds)
