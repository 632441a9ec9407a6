"""An upload's callback, as PutObject, PostObject and CompleteMultipartUpload share it.

The route parses the callback before it stores anything; the callback is sent only after the
commit, with no lock held, and its outcome becomes the upload's answer: 200 with the app
server's JSON, or 203 ``CallbackFailed`` with the object stored all the same.
"""

from __future__ import annotations

from flask import Response

from ..callbacks import CallbackContext, CallbackSpec
from ..protocol.errors import CallbackFailed
from ..services import services
from ..storage import ObjectMeta
from .parsing import OssRequest, own_url
from .responses import render_error


def public_key_url(req: OssRequest) -> str:
    """Where receivers fetch the callback public key: the configured URL or our bound address."""
    return own_url(req) + "/_ossemu/callback-public-key.pem"


def callback_context(req: OssRequest, meta: ObjectMeta, operation: str) -> CallbackContext:
    """What the callback body's ``${...}`` variables read about this upload."""
    store = services().storage
    return CallbackContext(
        bucket=meta.bucket,
        key=meta.key,
        etag=meta.etag,
        size=meta.size,
        mime_type=meta.content_type,
        crc64=meta.crc64,
        content_md5=meta.content_md5,
        client_ip=req.client_ip,
        request_id=req.request_id,
        operation=operation,
        open_data=lambda: store.open_blob(meta),
    )


def callback_answer(
    req: OssRequest, spec: CallbackSpec, meta: ObjectMeta, operation: str, headers: dict[str, str]
) -> Response:
    """Deliver the callback for the committed ``meta``; the upload's response (``headers``
    are the upload's own: ETag and checksums go with either answer)."""
    outcome = services().callback_delivery.deliver(
        spec, callback_context(req, meta, operation), public_key_url=public_key_url(req)
    )
    if not outcome.ok:
        return render_error(CallbackFailed(outcome.message), req.environ, headers)
    return Response(outcome.body, status=200, headers=headers, content_type="application/json")
