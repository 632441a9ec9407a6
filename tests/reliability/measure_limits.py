"""Measure what hostile traffic costs ``ossemu serve``: the README's memory figures.

    .venv/bin/python -m tests.reliability.measure_limits [--mib 300]

Starts ``ossemu serve`` (1 worker) and prints, as bytes and RSS, never timings:

- a callback whose app server answers ``Content-Length`` and ``Transfer-Encoding: chunked``
  together with an endless body (``--mib`` of it at most): RSS before and after, the bytes the
  app got out, the uploader's answer and the journal's size;
- 20 uploads whose callback body renders to 1.65 MB: the journal's size;
- a DeleteMultipleObjects body of ``--mib`` MiB: RSS before and after, and the bytes sent
  before the 400.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from tests.reliability.helpers import BUCKET, ServeProcess, raw_request, rss_kb, signed_headers
from tests.reliability.test_body_limits import _stream
from tests.reliability.test_memory_limits import ANSWERS, Answer, HostileApp
from tests.support import b64json, parse_response, target, wire

MIB = 1024 * 1024


def _journal_bytes(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "callbacks.sqlite3") as db:
        row = db.execute("SELECT SUM(LENGTH(CAST(entry AS BLOB))) FROM deliveries").fetchone()
    return int(row[0] or 0)


def measure(mib: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as root:
        data = Path(root) / "data"
        serve = ServeProcess(data, "--workers", "1")
        try:
            raw_request(serve.port, "PUT", BUCKET, None)
            answer = ANSWERS["length-and-chunked"]
            app = HostileApp(Answer(answer.head, answer.chunked, mib * MIB))
            before = rss_kb(serve.pid)
            callback = b64json({"callbackUrl": app.url, "callbackBody": "k=${object}"})
            response = raw_request(
                serve.port, "PUT", BUCKET, "a", headers={"x-oss-callback": callback}, body=b"1"
            )
            app.close()
            lines.append(
                f"callback answer with Content-Length and chunked ({mib} MiB offered): "
                f"RSS {before // 1024} -> {rss_kb(serve.pid) // 1024} MB, the app got "
                f"{max(app.sent) / MIB:.1f} MiB out, the uploader got {response.status} "
                f"({len(response.body)} bytes), journal {_journal_bytes(data) / 1024:.1f} KiB"
            )
            from ossemu.emulator.receiver import CallbackReceiver

            with CallbackReceiver() as receiver:
                fat = b64json({"callbackUrl": receiver.url, "callbackBody": "${x:v}" * 550})
                headers = {
                    "x-oss-callback": fat,
                    "x-oss-callback-var": b64json({"x:v": "v" * 3000}),
                }
                for n in range(20):
                    raw_request(serve.port, "PUT", BUCKET, f"f{n}", headers=headers, body=b"1")
            lines.append(
                f"20 callbacks of 1.65 MB each: journal {_journal_bytes(data) / MIB:.2f} MiB"
            )
            before = rss_kb(serve.pid)
            params = [("delete", "")]
            sent = signed_headers("POST", BUCKET, None, params, {"Host": f"127.0.0.1:{serve.port}"})
            sent["Content-Length"] = str(mib * MIB)
            head = f"POST {target(BUCKET, None, params)} HTTP/1.1\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in sent.items()) + "\r\n"
            piece = b"<Object><Key>k</Key></Object>" * 2000
            pushed, reply = _stream(serve.port, wire(head) + b"<Delete>", piece, False, mib * MIB)
            lines.append(
                f"DeleteMultipleObjects body of {mib} MiB: RSS {before // 1024} -> "
                f"{rss_kb(serve.pid) // 1024} MB, {pushed / MIB:.1f} MiB sent before "
                f"{parse_response(reply).status} {parse_response(reply).code}"
            )
        finally:
            serve.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=300, help="size of each hostile body")
    for line in measure(parser.parse_args().mib):
        print(line)


if __name__ == "__main__":
    main()
