"""``python -m bench.post_profile [N]``: a 4 KiB PostObject against a 4 KiB PutObject, in-process.

Calls the WSGI app directly (no server, no sockets) with pre-built environs, as the bench's
requests arrive: a V1 presigned PUT and a V1-signed form (a policy of its own per key). Prints
the CPU time per request of each (medians of 5 rounds of ``N`` requests, interleaved) and then
the functions where the form's extra time goes, from cProfile. A standalone script, not part of
``make bench``.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .forms import SignedForm, bodies_with_own_policies, sign
from .peers import KEY_ID, SECRET
from .signing import Targets

HOST = "127.0.0.1:9"
DATA = b"x" * 4096


def _environ(method: str, target: str, body: bytes, content_type: str = "") -> dict[str, Any]:
    path, _, query = target.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "9",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": HOST,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type:
        env["CONTENT_TYPE"] = content_type
    return env


def _caller(app: Any, make: Callable[[int], dict[str, Any]]) -> Callable[[int], None]:
    def call(i: int) -> None:
        status: list[str] = []
        out = app(make(i), lambda s, h, exc=None: status.append(s))
        b"".join(out)
        if hasattr(out, "close"):
            out.close()
        if not status[0].startswith("2"):
            raise RuntimeError(f"request {i}: {status[0]}")

    return call


def _form(server_url: str) -> SignedForm:
    """Signed by the SDK against a throwaway server (post_object_form makes no request)."""
    return sign(server_url, KEY_ID, SECRET, "prof", "post/")


def _steps(form: SignedForm) -> None:
    """The form's own steps, each alone (timeit, best of 5)."""
    import timeit

    from ossemu.emulator.protocol.form import read_form
    from ossemu.emulator.protocol.post_policy import (
        _decode,  # decode_policy without its cache: what a policy seen for the first time costs
        check_conditions,
        decode_policy,
        verify_form_signature,
    )

    body = form.body("post/obj-00001", DATA)
    fields = read_form(form.content_type, iter([body])).fields

    def parse() -> None:
        got = read_form(form.content_type, iter([body]))
        b"".join(got.chunks)

    policy = decode_policy(fields["policy"])
    keys = {KEY_ID: SECRET}
    now = time.time()
    steps: dict[str, Callable[[], object]] = {
        "form: read_form + drain the file (multipart)": parse,
        "form: decode_policy, a new policy (base64 + JSON + conditions)": lambda: _decode(
            fields["policy"]
        ),
        "form: decode_policy, a policy decoded before": lambda: decode_policy(fields["policy"]),
        "form: verify_form_signature (V1 HMAC-SHA1)": lambda: verify_form_signature(
            fields, keys, now
        ),
        "form: check_conditions": lambda: check_conditions(policy, fields, "prof"),
    }
    print("\nSteps alone (us per call, best of 5 x 2,000):")
    for name, step in steps.items():
        best = min(timeit.repeat(step, number=2000, repeat=5)) / 2000 * 1e6
        print(f"  {name}: {best:.1f}")


def main(argv: list[str] | None = None) -> int:
    n = int((argv or sys.argv[1:] or ["500"])[0])
    from ossemu.emulator.app import create_app
    from ossemu.emulator.config import EmulatorConfig

    with tempfile.TemporaryDirectory(prefix="bench-postprof-") as tmp:
        config = EmulatorConfig(data_dir=Path(tmp), access_key_id=KEY_ID, access_key_secret=SECRET)
        app = create_app(config)
        targets = Targets((KEY_ID, SECRET))
        _caller(app, lambda i: _environ("PUT", targets.path("PUT", "prof", ""), b""))(0)
        form = _form(f"http://{HOST}")
        puts = [targets.path("PUT", "prof", f"obj-{i:05d}") for i in range(1000)]
        # A policy per key, as the bench's loads sign them: none is found already decoded.
        keys = [f"post/obj-{i:05d}" for i in range(1000)]
        bodies = bodies_with_own_policies(
            form, f"http://{HOST}", KEY_ID, SECRET, "prof", keys, DATA
        )
        put = _caller(app, lambda i: _environ("PUT", puts[i % 1000], DATA))
        post = _caller(
            app, lambda i: _environ("POST", "/prof", bodies[i % 1000], form.content_type)
        )
        for i in range(1000):  # every measured upload an overwrite, as in the bench
            put(i)
            post(i)
        rounds: dict[str, list[float]] = {"PutObject": [], "PostObject": []}
        for _ in range(5):
            for name, call in (("PutObject", put), ("PostObject", post)):
                t0 = time.process_time()
                for i in range(n):
                    call(i)
                rounds[name].append((time.process_time() - t0) / n * 1e6)
        per = {k: statistics.median(v) for k, v in rounds.items()}
        print(
            f"CPU per request, medians of 5 x {n}: "
            + ", ".join(f"{k} {v:.0f} us" for k, v in per.items())
            + f"; PostObject/PutObject {per['PutObject'] / per['PostObject']:.2f} (throughput)"
        )
        _steps(form)
        for name, call in (("PutObject", put), ("PostObject", post)):
            prof = cProfile.Profile(time.process_time)  # CPU, not the fsync waits
            prof.enable()
            for i in range(n):
                call(i)
            prof.disable()
            print(f"\n== {name}: top 25 by own CPU time ({n} requests)")
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            print(f"\n== {name}: top 30 by cumulative CPU time")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
