"""Bucket configurations over HTTP: Put/Get/Delete for each of protocol.bucket_config.CONFIGS
(one table row per bucket and configuration), and lifecycle expiry applied before reads.

Handlers are made per configuration by :func:`operations`, which names each as OSS does
(``PutBucketLifecycle``...): https://www.alibabacloud.com/help/en/oss/developer-reference/bucket-operations
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from ..protocol import lifecycle
from ..protocol.bucket_config import CONFIGS, MAX_BODY, BucketConfig, logging_target
from ..protocol.errors import BadRequest, OssError, invalid_argument
from ..services import Services, storage
from .parsing import OssRequest

Handler = Callable[[OssRequest], Response]


def operations() -> dict[str, dict[str, tuple[str, Handler]]]:
    """sub-resource -> method -> (operation name, handler), for the route table."""
    table: dict[str, dict[str, tuple[str, Handler]]] = {}
    for config in CONFIGS:
        ops = {
            "PUT": (f"PutBucket{config.name}", _put(config)),
            "GET": (f"GetBucket{config.name}", _get(config)),
        }
        if config.deletable:
            ops["DELETE"] = (f"DeleteBucket{config.name}", _delete(config))
        table[config.sub] = ops
    return table


def _put(config: BucketConfig) -> Handler:
    def put_bucket_config(req: OssRequest) -> Response:
        body = bytearray()
        for chunk in req.body_chunks():
            body += chunk
            if len(body) > MAX_BODY:
                raise invalid_argument(f"The {config.sub} configuration is too large.")
        document = config.check(bytes(body))
        if config.sub == "logging":
            target = logging_target(document)
            if target is not None and not _exists(target):
                raise BadRequest(
                    "InvalidTargetBucketForLogging",
                    "The target bucket does not exist.",
                    TargetBucket=target,
                )
        storage().put_bucket_setting(req.bucket or "", config.sub, document.decode())
        return Response(status=200)

    return put_bucket_config


def _get(config: BucketConfig) -> Handler:
    def get_bucket_config(req: OssRequest) -> Response:
        store = storage()
        value = store.get_bucket_setting(req.bucket or "", config.sub)
        if value is None:
            store.get_bucket(req.bucket or "")  # NoSuchBucket first
            body = config.missing(req.bucket or "")
        else:
            body = value.encode()
        return Response(body, content_type=config.content_type)

    return get_bucket_config


def _delete(config: BucketConfig) -> Handler:
    def delete_bucket_config(req: OssRequest) -> Response:
        storage().put_bucket_setting(req.bucket or "", config.sub, None)
        return Response(status=204)

    return delete_bucket_config


def _exists(bucket: str) -> bool:
    try:
        storage().get_bucket(bucket)
    except OssError as e:
        if e.code == "NoSuchBucket":
            return False
        raise
    return True


def apply_lifecycle(svc: Services, bucket: str) -> None:
    """Expire what the bucket's enabled rules made due by the emulator's clock (lazily: before
    each read and listing of the bucket, so the test clock drives it)."""
    value = svc.storage.get_bucket_setting(bucket, "lifecycle")
    if value is None:
        return
    now = svc.clock.now()
    for rule in lifecycle.parse_lifecycle(value.encode()):
        if not rule.enabled or rule.tags:  # tag-filtered rules are stored, not applied
            continue
        svc.storage.expire(
            bucket,
            rule.prefix,
            objects_before=rule.expiration.cutoff(now) if rule.expiration else None,
            uploads_before=rule.abort_upload.cutoff(now) if rule.abort_upload else None,
        )
