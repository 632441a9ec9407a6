"""The floor: a Flask app that only streams a PUT body to a file and sends it back on GET.

No auth, no checksums, no index, no fsync: what any Flask object store pays at least under the
same WSGI server. ``fsync=True`` adds the one fsync per object ossemu does, to split the cost
of durability from the cost of the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.wsgi import wrap_file

CHUNK = 1024 * 1024


def create_floor_app(root: Path, *, fsync: bool = False) -> Flask:
    root.mkdir(parents=True, exist_ok=True)
    app = Flask("floor")

    def path_of(bucket: str, key: str) -> Path:
        return root / bucket / key.replace("/", "%2F")

    @app.put("/<bucket>")
    def put_bucket(bucket: str) -> Response:
        (root / bucket).mkdir(exist_ok=True)
        return Response(status=200)

    @app.put("/<bucket>/<path:key>")
    def put_object(bucket: str, key: str) -> Response:
        with open(path_of(bucket, key), "wb") as f:
            while chunk := request.stream.read(CHUNK):
                f.write(chunk)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        return Response(status=200)

    @app.get("/<bucket>/<path:key>")
    def get_object(bucket: str, key: str) -> Response:
        try:
            f = open(path_of(bucket, key), "rb")  # noqa: SIM115 - closed by the WSGI server
        except FileNotFoundError:
            return Response(status=404)
        size = os.fstat(f.fileno()).st_size
        return Response(
            wrap_file(request.environ, f),
            headers={"Content-Length": str(size)},
            content_type="application/octet-stream",
            direct_passthrough=True,
        )

    return app
