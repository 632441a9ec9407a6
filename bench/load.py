"""The load generator: wrk replaying a list of request targets, or a Python stand-in without it.

Both keep connections alive where the server allows it and reconnect where it closes them
(Werkzeug closes every one), and both report the same :class:`LoadResult`.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .procs import HOST

# wrk runs one Lua state per thread: each walks the target list from its own offset.
_WRK_SCRIPT = r"""
local targets, bodies, method, body, offset, step = {}, {}, "GET", nil, 0, 1
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  method = args[1]
  for line in io.lines(args[2]) do targets[#targets + 1] = line end
  if args[3] ~= "" then local f = io.open(args[3], "rb"); body = f:read("*a"); f:close() end
  step = tonumber(args[4])
  offset = id
  if args[5] ~= "" then
    local name, value = args[5]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
  local each = tonumber(args[6]) or 0
  if each > 0 then
    for i = 0, math.floor(#body / each) - 1 do
      bodies[i + 1] = body:sub(i * each + 1, (i + 1) * each)
    end
  end
end
function request()
  local i = offset % #targets + 1
  offset = offset + step
  return wrk.format(method, targets[i], nil, bodies[i] or body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"us":%d,"p50":%d,"p99":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # transport errors plus non-2xx answers
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(
    port: int,
    method: str,
    targets: list[str],
    *,
    body: bytes = b"",
    connections: int = 16,
    duration: float = 10.0,
    once: bool = False,
    tool: str = "wrk",
    headers: dict[str, str] | None = None,
    bodies: list[bytes] | None = None,
) -> LoadResult:
    """Send ``method`` requests over ``connections`` for ``duration`` s. ``once``: each target
    once (still bounded by ``duration``), always by the Python generator: wrk cannot stop early.
    ``bodies``: one body per target, all of one length (PostObject forms), instead of ``body``."""
    if bodies is not None and (len(bodies) != len(targets) or len({len(b) for b in bodies}) != 1):
        raise ValueError("bodies: one per target, all of the same length")
    per_target = bodies or [body]
    if tool == "wrk" and not once:  # wrk runs for its whole duration even when done
        return _run_wrk(port, method, targets, per_target, connections, duration, headers or {})
    return _run_python(
        port, method, targets, per_target, connections, duration, once, headers or {}
    )


def _run_wrk(
    port: int,
    method: str,
    targets: list[str],
    bodies: list[bytes],
    connections: int,
    duration: float,
    headers: dict[str, str],
) -> LoadResult:
    if len(headers) > 1:
        raise ValueError("the wrk script sends at most one extra header")
    threads = min(2, connections)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script, listing, payload = Path(tmp, "s.lua"), Path(tmp, "targets"), Path(tmp, "body")
        script.write_text(_WRK_SCRIPT)
        listing.write_text("\n".join(targets) + "\n")
        payload.write_bytes(b"".join(bodies))
        argv = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://{HOST}:{port}",
            "--",
            method,
            str(listing),
            str(payload) if bodies[0] else "",
            str(threads),
            "".join(f"{k}: {v}" for k, v in headers.items()),
            str(len(bodies[0])) if len(bodies) > 1 else "0",
        ]
        out = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(line)
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return LoadResult(r["requests"], r["us"] / 1e6, r["p50"] / 1e3, r["p99"] / 1e3, errors, "wrk")


# --- the Python stand-in: processes x threads, each a keep-alive connection -------------------


def _worker(
    port: int,
    method: str,
    targets: list[str],
    bodies: list[bytes],
    threads: int,
    deadline: float,
    start: int,
    step: int,
    once: bool,
    extra: dict[str, str],
    out: multiprocessing.Queue,
) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(offset: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        mine: list[float] = []
        bad = 0
        index = offset
        stride = step * threads
        headers = {"Content-Length": str(len(bodies[0]))} if method in ("PUT", "POST") else {}
        headers.update(extra)
        tries = 0
        while time.monotonic() < deadline and (not once or index < len(targets)):
            t0 = time.perf_counter()
            ok = False
            try:
                body = bodies[index % len(bodies)]
                conn.request(method, targets[index % len(targets)], body or None, headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status < 300
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
            tries += 1
            if not ok and once and tries < 3:
                continue  # filling a bucket: every key must land
            bad += not ok
            mine.append(time.perf_counter() - t0)
            index += stride
            tries = 0
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [
        threading.Thread(target=loop, args=(start + i * step,), daemon=True) for i in range(threads)
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((latencies, errors[0]))


def _run_python(
    port: int,
    method: str,
    targets: list[str],
    bodies: list[bytes],
    connections: int,
    duration: float,
    once: bool,
    headers: dict[str, str],
) -> LoadResult:
    procs = min(2, connections)
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue = ctx.Queue()
    started = time.monotonic()
    deadline = started + duration
    workers = [
        ctx.Process(
            target=_worker,
            args=(
                port,
                method,
                targets,
                bodies,
                connections // procs,
                deadline,
                i,
                procs,
                once,
                headers,
                queue,
            ),
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    latencies: list[float] = []
    errors = 0
    for _ in workers:
        lat, err = queue.get(timeout=duration + 60)
        latencies.extend(lat)
        errors += err
    for w in workers:
        w.join(10)
    elapsed = time.monotonic() - started
    if not latencies:
        return LoadResult(0, elapsed, 0.0, 0.0, errors, "python")
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return LoadResult(len(latencies), elapsed, q[49] * 1e3, q[98] * 1e3, errors, "python")
