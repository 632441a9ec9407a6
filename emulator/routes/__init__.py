"""HTTP only: THE route table, request parsing, auth, then a thin handler per OSS operation.

Dispatch is on (method, level, sub-resource) where level is service / bucket / object, as OSS
documents its API. Known OSS sub-resources the emulator does not implement answer
``NotImplemented``; any other combination answers ``MethodNotAllowed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, request
from werkzeug.routing import PathConverter

from ..access import request_id_of
from ..protocol.auth import SUBRESOURCES, SignedRequest, verify_request
from ..protocol.errors import OssError
from ..protocol.http import parse_uint
from . import buckets, control, multipart, objects, service
from .common import OssRequest, abort_connection

if TYPE_CHECKING:
    from ..app import Services

Handler = Callable[[OssRequest], Response]

ROUTES: dict[tuple[str, str, str | None], tuple[str, Handler]] = {
    ("GET", "service", None): ("ListBuckets", service.list_buckets),
    ("PUT", "bucket", None): ("PutBucket", buckets.put_bucket),
    ("DELETE", "bucket", None): ("DeleteBucket", buckets.delete_bucket),
    ("GET", "bucket", None): ("ListObjects", buckets.list_objects),
    ("GET", "bucket", "bucketInfo"): ("GetBucketInfo", buckets.get_bucket_info),
    ("GET", "bucket", "location"): ("GetBucketLocation", buckets.get_bucket_location),
    ("GET", "bucket", "uploads"): ("ListMultipartUploads", multipart.list_multipart_uploads),
    ("POST", "bucket", "delete"): ("DeleteMultipleObjects", objects.delete_multiple_objects),
    ("PUT", "object", None): ("PutObject", objects.put_object),
    ("GET", "object", None): ("GetObject", objects.get_object),
    ("HEAD", "object", None): ("HeadObject", objects.head_object),
    ("GET", "object", "objectMeta"): ("GetObjectMeta", objects.get_object_meta),
    ("HEAD", "object", "objectMeta"): ("GetObjectMeta", objects.get_object_meta),
    ("DELETE", "object", None): ("DeleteObject", objects.delete_object),
    ("POST", "object", "uploads"): ("InitiateMultipartUpload", multipart.initiate_multipart_upload),
    ("PUT", "object", "uploadId"): ("UploadPart", multipart.upload_part),
    ("POST", "object", "uploadId"): (
        "CompleteMultipartUpload",
        multipart.complete_multipart_upload,
    ),
    ("DELETE", "object", "uploadId"): ("AbortMultipartUpload", multipart.abort_multipart_upload),
    ("GET", "object", "uploadId"): ("ListParts", multipart.list_parts),
}

# Sub-resources that select an operation, in the order they are looked for.
_DISPATCH = ("uploadId", "uploads", "delete", "bucketInfo", "location", "objectMeta")
# Sub-resources OSS has that the emulator does not implement (reported as NotImplemented).
_UNSUPPORTED = (
    SUBRESOURCES
    - set(_DISPATCH)
    - {"partNumber", "callback", "callback-var", "security-token", "continuation-token"}
    - {"versionId"}  # accepted and ignored: nothing here is versioned
    - objects.RESPONSE_OVERRIDES.keys()
)


class _AnyPath(PathConverter):
    """``path`` whose ``.`` also matches CR and LF: a key holding them must reach auth and the
    name check (400 InvalidObjectName), not fall through to a 404 NoSuchKey for a PUT."""

    regex = r"[^/](?s:.)*?"


def register_routes(app: Flask) -> None:
    control.register(app)
    app.url_map.converters["anypath"] = _AnyPath
    app.add_url_rule("/", "oss", dispatch, methods=["GET", "PUT", "POST", "DELETE", "HEAD"])
    app.add_url_rule(
        "/<anypath:_path>", "oss", dispatch, methods=["GET", "PUT", "POST", "DELETE", "HEAD"]
    )


def dispatch(_path: str = "") -> Response:
    services: Services = current_app.extensions["ossemu"]
    req = OssRequest.from_flask(request, services.config.domain, request_id_of(request.environ))
    level = "object" if req.key is not None else "bucket" if req.bucket is not None else "service"
    if services.config.auth:  # before dispatch: an unsigned caller learns nothing of the API
        verify_request(
            SignedRequest(req.method, req.bucket, req.key, req.query, req.headers),
            {services.config.access_key_id: services.config.access_key_secret},
        )
    if any(name in _UNSUPPORTED for name in req.args):
        raise OssError("NotImplemented")
    sub = next((s for s in _DISPATCH if s in req.args), None)
    route = ROUTES.get((req.method, level, sub))
    if route is None:
        raise OssError("MethodNotAllowed", Method=req.method, ResourceType=level.capitalize())
    operation, handler = route
    _inject_fault(services, operation, req)
    return handler(req)


def _inject_fault(services: Services, operation: str, req: OssRequest) -> None:
    part = parse_uint(req.args.get("partNumber"))
    fault = services.faults.take(operation, req.bucket, req.key, part)
    if fault is None:
        return
    if fault.delay:
        time.sleep(fault.delay)
    if fault.action == "error":
        error = OssError(fault.code, fault.message)
        error.status = fault.status
        raise error
    if fault.action == "drop":
        abort_connection(req)
