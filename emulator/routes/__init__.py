"""HTTP only: THE route table, then authenticate, authorise and a thin handler per operation.

Dispatch is on (method, level, sub-resource) where level is service / bucket / object, as OSS
documents its API. Known OSS sub-resources the emulator does not implement answer
``NotImplemented``; any other combination answers ``MethodNotAllowed``.

Each :class:`Route` names how its callers prove who they are (``signature``, ``post-policy``,
``none``). :func:`dispatch` authenticates every request first, which yields a
:class:`~emulator.protocol.auth.Principal`, and then :func:`.authorization.authorize` decides,
in one place, once the operation is known: a signed caller is the owner, an anonymous one gets
what the bucket's and the object's ACLs grant, and a preflight needs nothing (for a form upload,
it decides once the handler has read the form's fields).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from flask import Flask, Request, Response, request
from werkzeug.routing import PathConverter

from ..access_log import OPERATION, request_id_of
from ..iam import authorize as iam
from ..protocol.auth import ANONYMOUS, SUBRESOURCES, Principal, SignedRequest, authenticate
from ..protocol.errors import OssError
from ..protocol.http import parse_uint
from ..services import Services, services
from . import (
    acl,
    append,
    bucket_config,
    buckets,
    control,
    cors,
    images,
    inventory,
    multipart,
    objects,
    post_object,
    restore,
    service,
    sts,
    symlink,
    tagging,
)
from .authorization import AuthKind, authorize
from .body import abort_connection
from .parsing import OssRequest

Handler = Callable[[OssRequest], Response]


class Route(NamedTuple):
    operation: str
    handler: Handler
    auth: AuthKind = "signature"


ROUTES: dict[tuple[str, str, str | None], Route] = {
    ("GET", "service", None): Route("ListBuckets", service.list_buckets),
    ("PUT", "bucket", None): Route("PutBucket", buckets.put_bucket),
    ("DELETE", "bucket", None): Route("DeleteBucket", buckets.delete_bucket),
    ("GET", "bucket", None): Route("ListObjects", buckets.list_objects),
    ("GET", "bucket", "bucketInfo"): Route("GetBucketInfo", buckets.get_bucket_info),
    ("GET", "bucket", "location"): Route("GetBucketLocation", buckets.get_bucket_location),
    ("GET", "bucket", "live"): Route("ListLiveChannel", buckets.list_live_channels),
    ("GET", "bucket", "uploads"): Route("ListMultipartUploads", multipart.list_multipart_uploads),
    ("POST", "bucket", "delete"): Route("DeleteMultipleObjects", objects.delete_multiple_objects),
    ("POST", "bucket", None): Route("PostObject", post_object.post_object, auth="post-policy"),
    ("PUT", "object", None): Route("PutObject", objects.put_object),
    ("GET", "object", None): Route("GetObject", objects.get_object),
    ("HEAD", "object", None): Route("HeadObject", objects.head_object),
    ("GET", "object", "objectMeta"): Route("GetObjectMeta", objects.get_object_meta),
    ("HEAD", "object", "objectMeta"): Route("GetObjectMeta", objects.get_object_meta),
    ("DELETE", "object", None): Route("DeleteObject", objects.delete_object),
    ("POST", "object", "append"): Route("AppendObject", append.append_object),
    ("PUT", "object", "symlink"): Route("PutSymlink", symlink.put_symlink),
    ("POST", "object", "restore"): Route("RestoreObject", restore.restore_object),
    ("GET", "object", "symlink"): Route("GetSymlink", symlink.get_symlink),
    ("POST", "object", "uploads"): Route(
        "InitiateMultipartUpload", multipart.initiate_multipart_upload
    ),
    ("PUT", "object", "uploadId"): Route("UploadPart", multipart.upload_part),
    ("POST", "object", "uploadId"): Route(
        "CompleteMultipartUpload",
        multipart.complete_multipart_upload,
    ),
    ("DELETE", "object", "uploadId"): Route(
        "AbortMultipartUpload", multipart.abort_multipart_upload
    ),
    ("GET", "object", "uploadId"): Route("ListParts", multipart.list_parts),
    ("PUT", "object", "tagging"): Route("PutObjectTagging", tagging.put_object_tagging),
    ("GET", "object", "tagging"): Route("GetObjectTagging", tagging.get_object_tagging),
    ("DELETE", "object", "tagging"): Route("DeleteObjectTagging", tagging.delete_object_tagging),
    ("PUT", "bucket", "tagging"): Route("PutBucketTags", tagging.put_bucket_tags),
    ("GET", "bucket", "tagging"): Route("GetBucketTags", tagging.get_bucket_tags),
    ("DELETE", "bucket", "tagging"): Route("DeleteBucketTags", tagging.delete_bucket_tags),
    ("GET", "object", "x-oss-process"): Route("GetObject", images.get_processed_object),
    ("HEAD", "object", "x-oss-process"): Route("HeadObject", objects.head_object),
    ("POST", "object", "x-oss-process"): Route("ProcessObject", images.process_object),
    ("PUT", "bucket", "inventory"): Route("PutBucketInventory", inventory.put_bucket_inventory),
    ("GET", "bucket", "inventory"): Route("GetBucketInventory", inventory.get_bucket_inventory),
    ("DELETE", "bucket", "inventory"): Route(
        "DeleteBucketInventory", inventory.delete_bucket_inventory
    ),
    ("PUT", "bucket", "acl"): Route("PutBucketAcl", acl.put_bucket_acl),
    ("GET", "bucket", "acl"): Route("GetBucketAcl", acl.get_bucket_acl),
    ("PUT", "object", "acl"): Route("PutObjectAcl", acl.put_object_acl),
    ("GET", "object", "acl"): Route("GetObjectAcl", acl.get_object_acl),
    ("PUT", "bucket", "cors"): Route("PutBucketCors", cors.put_bucket_cors),
    ("GET", "bucket", "cors"): Route("GetBucketCors", cors.get_bucket_cors),
    ("DELETE", "bucket", "cors"): Route("DeleteBucketCors", cors.delete_bucket_cors),
    # The preflight, whatever the URL's sub-resources: browsers send no signature with it.
    ("OPTIONS", "bucket", None): Route("OptionObject", cors.option_object, auth="none"),
    ("OPTIONS", "object", None): Route("OptionObject", cors.option_object, auth="none"),
}
for _sub, _ops in bucket_config.operations().items():
    for _method, (_operation, _handler) in _ops.items():
        ROUTES[(_method, "bucket", _sub)] = Route(_operation, _handler)

# Sub-resources that select an operation, in the order they are looked for.
_DISPATCH = (
    *("uploadId", "uploads", "delete", "bucketInfo", "location", "objectMeta"),
    *("live", "tagging", "append", "symlink", "restore", "x-oss-process", "inventory"),
    *bucket_config.operations(),
    *("acl", "cors"),
)
# Sub-resources served at one level only; at the other OSS has operations the emulator does
# not implement (a live channel's own operations): NotImplemented there.
_ONE_LEVEL_ONLY = {"live": "bucket"}
# OSS API sub-resources that no SDK signs as such (so they are not in SUBRESOURCES), from the
# OSS API reference: DescribeRegions (?regions), bucket access tracking (?accessMonitor)...
# Any other unknown query parameter is ignored, as OSS ignores it.
_UNSIGNED_SUBRESOURCES = frozenset(
    [
        "regions",
        "accessMonitor",
        "policyStatus",
        "dataRedundancyTransition",
        "cleanRestoredObject",
        "select",
        "responseHeader",
        "userDefinedLogFieldsConfig",
        "overwriteConfig",
        "archiveDirectRead",
    ]
)
# Sub-resources OSS has that the emulator does not implement (reported as NotImplemented).
_UNSUPPORTED = (
    (SUBRESOURCES | _UNSIGNED_SUBRESOURCES)
    - set(_DISPATCH)
    - {"partNumber", "callback", "callback-var", "security-token", "continuation-token"}
    - {"position"}  # AppendObject's argument
    - {"inventoryId"}
    - {"versionId"}  # accepted and ignored: nothing here is versioned
    - {"x-oss-traffic-limit"}  # a presigned URL's traffic limit: checked, not throttled
    - objects.RESPONSE_OVERRIDES.keys()
)


#: The methods of the OSS API (``wsgi.OssApi`` leaves any other to Flask's 405).
OSS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS")


class _AnyPath(PathConverter):
    """``path`` whose ``.`` also matches CR and LF: a key may hold them (OSS takes any UTF-8
    name), so such a request must reach its handler like any other."""

    regex = r"[^/](?s:.)*?"


def register_routes(app: Flask) -> None:
    control.register(app, oss=dispatch)
    cors.register(app)
    app.url_map.converters["anypath"] = _AnyPath
    # OPTIONS listed, so Flask leaves the preflight to dispatch instead of answering it itself.
    app.add_url_rule("/", "oss", dispatch, methods=OSS_METHODS)
    app.add_url_rule("/<anypath:_path>", "oss", dispatch, methods=OSS_METHODS)


def dispatch(_path: str = "") -> Response:
    """The Flask view of the OSS API (``wsgi.OssApi`` calls :func:`handle` without Flask)."""
    return handle(request)


def handle(request: Request) -> Response:
    """One OSS API request: authenticate, route, authorise, and the operation's handler."""
    svc = services()
    if sts.is_sts_request(request):  # STS shares the endpoint, as the SDKs can be pointed at it
        return sts.handle(svc, request)
    req = OssRequest.from_flask(request, svc.config.domain, request_id_of(request.environ))
    level = "object" if req.key is not None else "bucket" if req.bucket is not None else "service"
    request.environ[cors.BUCKET] = req.bucket
    preflight = req.method == "OPTIONS"
    # A preflight is answered from the CORS rules alone, whatever signature its URL carries.
    principal = ANONYMOUS if preflight else _authenticate(svc, req)
    unsupported = not preflight and any(name in _UNSUPPORTED for name in req.args)
    sub = None if preflight else next((s for s in _DISPATCH if s in req.args), None)
    route = None if unsupported else ROUTES.get((req.method, level, sub))
    unsupported = unsupported or (sub in _ONE_LEVEL_ONLY and _ONE_LEVEL_ONLY[sub] != level)
    # Before the route is known to exist: an unsigned caller learns nothing of the API. A form
    # upload's principal is in its body: its handler asks once it has read the fields.
    needs = route.auth if route is not None else "signature"
    request.environ[iam.PRINCIPAL] = principal
    if needs != "post-policy":
        authorize(
            svc,
            principal,
            needs,
            operation=route.operation if route is not None else None,
            bucket=req.bucket,
            key=req.key,
            headers=req.headers,
            args=req.args,
            remote_addr=request.remote_addr,
        )
    if unsupported:
        raise OssError("NotImplemented")
    if route is None:
        raise OssError("MethodNotAllowed", Method=req.method, ResourceType=level.capitalize())
    request.environ[OPERATION] = _log_name(route.operation, req)
    if req.bucket is not None and req.method in ("GET", "HEAD"):
        bucket_config.apply_lifecycle(svc, req.bucket)
    _inject_fault(svc, route.operation, req)
    return route.handler(req)


def _authenticate(svc: Services, req: OssRequest) -> Principal:
    """Who sent the request (a bad signature raises here, whatever the route)."""
    if not svc.config.auth:
        return Principal(svc.config.access_key_id)  # auth off: every caller is the owner
    signed = SignedRequest(req.method, req.bucket, req.key, req.query, req.headers)
    lookup = svc.credentials.lookup
    try:
        return authenticate(
            signed, lookup, now=svc.clock.now(), wall=time.time(), region=svc.config.region
        )
    except OssError as error:
        if error.code == "InvalidAccessKeyId" and _names_a_missing_bucket(svc, req):
            raise OssError("NoSuchBucket", BucketName=req.bucket or "") from None
        raise


def _names_a_missing_bucket(svc: Services, req: OssRequest) -> bool:
    """OSS looks the bucket up before an unknown AccessKeyId: a missing bucket is 404
    NoSuchBucket (v2's suite: bucketInfo, location, ListObjectsV2, HEAD ?objectMeta...), except
    for the two requests that may create one (PutBucket, and PUT ?acl, its legacy form). The
    caller learns only that the bucket does not exist; nothing is read or created."""
    if req.bucket is None:
        return False
    if req.key is None and req.method == "PUT" and set(req.args) <= {"acl"}:
        return False
    try:
        svc.storage.get_bucket(req.bucket)
    except OssError:
        return True
    return False


def _log_name(operation: str, req: OssRequest) -> str:
    """The operation as the access log names it; only parameters that are never secret."""
    part = req.args.get("partNumber")
    return f"{operation} partNumber={part}" if part is not None and part.isdigit() else operation


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
        abort_connection(req.stream, req.environ)
