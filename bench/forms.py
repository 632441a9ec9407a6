"""PostObject forms for the bench: signed by our SDK, then replayed as pre-built bodies.

The signature covers the policy, not the body, so one policy (keys under a prefix, a far expiry)
could sign every upload of a run. The 4 KiB loads sign one policy per key all the same
(:func:`bench.workloads.post_forms`): the emulator keeps decoded policies, and one policy for
every request would measure only the page that reuses it. The load tool replays bytes, and the
server pays the whole form's cost on each request: multipart parsing, policy decoding, signature
and condition checks. A big form goes out with ``sendfile`` between its head and tail, as
:mod:`bench.bigio` sends a PUT.
"""

from __future__ import annotations

import http.client
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .procs import HOST


@dataclass(frozen=True)
class SignedForm:
    """The signed fields of one policy and a fixed boundary: bodies for any key it allows."""

    fields: dict[str, str]
    boundary: str

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def head(self, key: str, filename: str = "blob.bin") -> bytes:
        """Every field (``key`` set to ``key``), then the file part's header."""
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{key if name == 'key' else value}\r\n"
            for name, value in self.fields.items()
        ]
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        return "".join(parts).encode()

    @property
    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def body(self, key: str, data: bytes) -> bytes:
        return self.head(key) + data + self.tail


def sign(url: str, key_id: str, secret: str, bucket: str, prefix: str) -> SignedForm:
    """A V1 policy for keys under ``prefix``, valid for six hours (a run takes minutes). V1, as
    the PUTs it is compared with are V1 presigned URLs."""
    from ossemu.client import Client

    with Client(url, key_id, secret) as c:
        fields = _policy_fields(c.get_bucket(bucket), prefix)
    return SignedForm(fields, f"bench-{uuid.uuid4().hex}")


def bodies_with_own_policies(
    form: SignedForm, url: str, key_id: str, secret: str, bucket: str, keys: list[str], data: bytes
) -> list[bytes]:
    """A 4 KiB form body per key, each under a policy of its own (for that key alone), in
    ``form``'s boundary: the emulator keeps decoded policies, so no body here finds its policy
    decoded already, the worst case for a page that never reuses one."""
    from ossemu.client import Client

    with Client(url, key_id, secret) as c:
        handle = c.get_bucket(bucket)
        return [
            SignedForm(_policy_fields(handle, key), form.boundary).body(key, data) for key in keys
        ]


def _policy_fields(bucket: Any, prefix: str) -> dict[str, str]:
    form = bucket.post_object_form(key_prefix=prefix, expires=6 * 3600, signature_version="v1")
    return dict(form.fields)


def post_file(port: int, target: str, form: SignedForm, key: str, path: Path) -> float:
    """POST the file at ``path`` as the form's file; returns seconds until the (2xx) answer."""
    head, tail = form.head(key), form.tail
    size = len(head) + path.stat().st_size + len(tail)
    with socket.create_connection((HOST, port), timeout=300) as sock, open(path, "rb") as f:
        request = (
            f"POST {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: {size}\r\n"
            f"Content-Type: {form.content_type}\r\nConnection: close\r\n\r\n"
        )
        started = time.perf_counter()
        sock.sendall(request.encode() + head)
        sock.sendfile(f)
        sock.sendall(tail)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        elapsed = time.perf_counter() - started
    if resp.status >= 300:
        raise RuntimeError(f"POST {target}: {resp.status} {body[:300]!r}")
    return elapsed
