"""Send a callback again, or for an object that was never uploaded with one: the inspector's
replay and trigger, and the signature check it shows beside each delivery.

A replay sends the journalled body as it was (to its URLs, or one the caller names), signed
afresh with the current key; a trigger renders a template against an existing object's
metadata. Both go through :meth:`CallbackEngine.send`, so they are journalled like an upload's.
Configurations are validated by :func:`parse_callback`, the same rules an upload's header meets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ..protocol.errors import OssError
from .delivery import CallbackEngine, CallbackOutcome
from .signing import string_to_sign
from .spec import CallbackSpec, parse_callback
from .template import CallbackContext, render_body


def _encoded(document: Mapping[str, Any]) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode("ascii")


def spec_from(
    config: Mapping[str, Any], variables: Mapping[str, str] | None = None, *, strict: bool = False
) -> CallbackSpec:
    """A callback configuration (``callbackUrl``, ``callbackBody``...) and ``x:`` variables,
    checked as an upload's ``x-oss-callback`` would be (``OssError`` when invalid)."""
    headers = {"x-oss-callback": _encoded(config)}
    if variables:
        headers["x-oss-callback-var"] = _encoded(variables)
    spec = parse_callback(headers, {}, strict_urls=strict)
    if spec is None:
        raise OssError("InvalidArgument", "The callback needs a callbackUrl.")
    return spec


def replay(
    engine: CallbackEngine,
    entry_id: int,
    entry: Mapping[str, Any],
    *,
    url: str | None,
    public_key_url: str,
    strict: bool = False,
) -> CallbackOutcome:
    """Send journal entry ``entry_id``'s body again, to ``url`` or to the entry's own URLs."""
    callback = entry.get("callback") or {}
    attempts = entry.get("attempts") or []
    request = attempts[0].get("request") or {} if attempts else {}
    if request.get("body_truncated"):
        raise OssError(
            "InvalidArgument",
            "The journal kept only the first bytes of this callback's body: it cannot be sent "
            "again as it was.",
        )
    if "body_base64" in request:
        body = base64.b64decode(request["body_base64"])
    else:
        body = str(request.get("body", "")).encode()
    config: dict[str, Any] = {
        "callbackUrl": url or ";".join(callback.get("urls") or []),
        "callbackBody": "replay",  # validated only: the journalled body is sent
        "callbackBodyType": callback.get("body_type") or "application/x-www-form-urlencoded",
        "callbackSNI": bool(callback.get("sni")),
    }
    if callback.get("host"):
        config["callbackHost"] = callback["host"]
    spec = spec_from(config, strict=strict)
    about = {
        "operation": "Replay",
        "request_id": entry.get("request_id"),
        "replay_of": entry_id,
    }
    bucket, key = str(entry.get("bucket") or ""), str(entry.get("key") or "")
    return engine.send(spec, body, bucket, key, about, public_key_url)


def trigger(
    engine: CallbackEngine, spec: CallbackSpec, ctx: CallbackContext, *, public_key_url: str
) -> CallbackOutcome:
    """Deliver ``spec`` for an existing object as if it had just been uploaded."""
    about = {"operation": "Trigger", "request_id": ctx.request_id}
    body = render_body(spec, ctx)
    return engine.send(spec, body, ctx.bucket, ctx.key, about, public_key_url)


def verify_attempt(public_key: RSAPublicKey, attempt: Mapping[str, Any]) -> dict[str, Any]:
    """Whether the request journalled in ``attempt`` carries a signature that verifies, and
    what an app server signs: ``signed_prefix``, then a line feed, then the body as sent."""
    request = attempt.get("request") or {}
    if request.get("body_truncated"):
        return {"verified": None, "why": "the journal kept only part of the body"}
    authorization = next(
        (str(v) for k, v in request.get("headers") or [] if str(k).lower() == "authorization"), ""
    )
    body = (
        base64.b64decode(request["body_base64"])
        if "body_base64" in request
        else str(request.get("body", "")).encode()
    )
    target = urlsplit(str(request.get("target") or "/"))
    signed = string_to_sign(target.path or "/", target.query, body)
    prefix = signed[: len(signed) - len(body) - 1].decode("utf-8", "replace")
    try:
        signature = base64.b64decode(authorization, validate=True)
        public_key.verify(signature, signed, padding.PKCS1v15(), hashes.MD5())
    except (InvalidSignature, ValueError):
        return {
            "verified": False,
            "why": "it does not match the emulator's key",
            "signed_prefix": prefix,
        }
    return {"verified": True, "signed_prefix": prefix}
