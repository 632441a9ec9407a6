"""Bucket CORS over HTTP: Put/Get/DeleteBucketCors, the ``OPTIONS`` preflight, and the one
place every other response gets its CORS headers (:func:`add_cors_headers`, after the request,
so error responses and 203s carry them too)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from ..protocol import cors
from ..protocol.errors import NotFound, invalid_argument
from ..services import services, storage
from .parsing import OssRequest
from .responses import xml_response

SETTING = "cors"
#: Where dispatch leaves the request's bucket for :func:`add_cors_headers`.
BUCKET = "ossemu.bucket"


def put_bucket_cors(req: OssRequest) -> Response:
    """PutBucketCors: https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketcors"""
    body = bytearray()
    for chunk in req.body_chunks():
        body += chunk
        if len(body) > cors.MAX_BODY:
            raise invalid_argument(f"The CORS configuration is larger than {cors.MAX_BODY} bytes.")
    config = cors.parse_cors(bytes(body))
    storage().put_bucket_setting(req.bucket or "", SETTING, cors.dumps(config))
    return Response(status=200)


def get_bucket_cors(req: OssRequest) -> Response:
    """GetBucketCors: https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketcors"""
    config = bucket_cors(req.bucket or "")
    if config is None:
        raise NotFound("NoSuchCORSConfiguration", BucketName=req.bucket or "")
    return xml_response(cors.to_xml(config))


def delete_bucket_cors(req: OssRequest) -> Response:
    """DeleteBucketCors: https://www.alibabacloud.com/help/en/oss/developer-reference/deletebucketcors"""
    storage().put_bucket_setting(req.bucket or "", SETTING, None)
    return Response(status=204)


def option_object(req: OssRequest) -> Response:
    """OptionObject, the preflight (never signature-checked):
    https://www.alibabacloud.com/help/en/oss/developer-reference/options"""
    headers = cors.preflight(
        bucket_cors(req.bucket or ""),
        req.headers.get("origin"),
        req.headers.get("access-control-request-method"),
        req.headers.get("access-control-request-headers"),
    )
    return Response(status=200, headers=headers)


def bucket_cors(bucket: str) -> cors.CorsConfig | None:
    """The bucket's rules, None when it has none; NoSuchBucket when there is no bucket."""
    store = storage()
    value = store.get_bucket_setting(bucket, SETTING)
    if value is None:
        store.get_bucket(bucket)
        return None
    return cors.loads(value)


def add_cors_headers(response: Response, environ: dict[str, Any]) -> Response:
    """Every OSS response of a bucket with CORS rules: the matched rule's headers for the
    request's ``Origin``, and ``Vary: Origin`` when the rules ask for it (preflights answer for
    themselves)."""
    bucket = environ.get(BUCKET)
    method = environ.get("REQUEST_METHOD", "")
    if not bucket or method == "OPTIONS":
        return response
    value = services().storage.get_bucket_setting(bucket, SETTING)
    if value is None:
        return response
    try:
        config = cors.loads(value)
    except (ValueError, KeyError):
        return response
    response.headers.update(cors.actual(config, environ.get("HTTP_ORIGIN"), method))
    return response


def register(app: Flask) -> None:
    app.after_request(lambda response: add_cors_headers(response, request.environ))
