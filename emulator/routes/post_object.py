"""PostObject: a browser's form upload, authorised by the signed policy in its own body.

The main story, as PutObject's: read the fields (the file still unread), check who signed the
policy and that the form meets it, parse the callback, stream the file into storage's atomic
commit (its size checked against ``content-length-range`` as it flows), then deliver the
callback with no lock held and answer 200 with the app's JSON or 203 ``CallbackFailed``.
Without a callback the form's ``success_action_*`` fields choose the answer.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

from flask import Response

from ..callbacks import CallbackSpec, parse_callback
from ..iam.credentials import principal_for
from ..protocol import acl
from ..protocol.auth import ANONYMOUS, Principal
from ..protocol.errors import BadRequest, invalid_argument
from ..protocol.form import Form, read_form
from ..protocol.post_policy import (
    Policy,
    check_conditions,
    check_expiration,
    check_size,
    decode_policy,
    has_signature,
    verify_form_signature,
)
from ..protocol.xml import render
from ..services import Services, services, storage
from .authorization import authorize
from .parsing import STORED_HEADERS, OssRequest
from .responses import upload_headers, xml_response
from .upload_callback import callback_answer

_META_NAME = re.compile(r"x-oss-meta-[a-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
NO_KEY = (
    "The bucket POST must contain the specified 'key'. If it is specified, please check the "
    "order of the fields"
)


def post_object(req: OssRequest) -> Response:
    """PostObject: https://www.alibabacloud.com/help/en/oss/developer-reference/postobject"""
    svc = services()
    bucket = req.bucket or ""
    form = read_form(req.headers.get("content-type", ""), _checked_body(req))
    fields = form.fields
    if not fields.get("key"):
        raise invalid_argument(NO_KEY, "key")
    principal, policy = _authenticate_form(svc, fields, bucket)
    key = fields["key"].replace("${filename}", form.filename)  # after the policy saw it
    authorize(
        svc,
        principal,
        "post-policy",
        operation="PostObject",
        bucket=bucket,
        key=key,
        headers=req.headers,
        remote_addr=req.environ.get("REMOTE_ADDR"),
    )
    spec = _callback_spec(svc, fields)
    meta = storage().put_object(
        bucket,
        key,
        _sized(form.chunks, policy),
        content_type=_content_type(form, key),
        headers=_stored_headers(fields),
        forbid_overwrite=fields.get("x-oss-forbid-overwrite", "").lower() == "true",
        expected_md5=None,
        expected_size=None,
        acl=_object_acl(fields, req.headers),
    )
    headers = upload_headers(meta)
    if spec is None:
        return _success(fields, bucket, key, headers, req)
    return callback_answer(req, spec, meta, "PostObject", headers)


def _authenticate_form(
    svc: Services, fields: Mapping[str, str], bucket: str
) -> tuple[Principal, Policy | None]:
    """Who signed the form's policy (anonymous when it carries no signature), and the policy,
    checked: expiration and every condition but the size, which is checked as the file flows."""
    now = svc.clock.now()
    if not svc.config.auth:
        principal = Principal(svc.config.access_key_id)  # auth off: every caller is the owner
    elif not has_signature(fields):
        return ANONYMOUS, None
    else:
        access_key_id = verify_form_signature(fields, svc.credentials.lookup, now)
        token = fields.get("x-oss-security-token")
        principal, _ = principal_for(svc.credentials, access_key_id, token)
    if "policy" not in fields:
        return principal, None
    policy = decode_policy(fields["policy"])
    check_expiration(policy, now)
    check_conditions(policy, fields, bucket)
    return principal, policy


def _callback_spec(svc: Services, fields: Mapping[str, str]) -> CallbackSpec | None:
    """The ``callback`` field and its ``x:`` variables, checked before anything is stored."""
    variables = {k: v for k, v in fields.items() if k.startswith("x:")}
    return parse_callback(
        {},
        {"callback": fields.get("callback", "")},
        strict_urls=svc.config.strict_callback_urls,
        form_variables=variables,
    )


def _sized(chunks: Iterator[bytes], policy: Policy | None) -> Iterator[bytes]:
    """The file's chunks; EntityTooLarge as soon as it passes the policy's maximum, and
    EntityTooSmall at its end, both before storage commits."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if policy is not None and policy.size_range and size > policy.size_range[1]:
            check_size(policy, size)
        yield chunk
    if policy is not None:
        check_size(policy, size)


def _checked_body(req: OssRequest) -> Iterator[bytes]:
    """The request body; with a ``Content-MD5`` header, its digest is checked at the end (OSS
    compares it with the whole multipart body, not the file)."""
    expected = req.headers.get("content-md5")
    if expected is None:
        yield from req.body_chunks()
        return
    digest = hashlib.md5()
    for chunk in req.body_chunks():
        digest.update(chunk)
        yield chunk
    if base64.b64encode(digest.digest()).decode() != expected:
        raise BadRequest("InvalidDigest", **{"Content-MD5": expected})


def _content_type(form: Form, key: str) -> str:
    """``x-oss-content-type`` > the file part's type > the Content-Type field > the key's
    extension, as POSTDOC orders them; refused like a stored header if it holds a control
    character (it goes back out as the object's Content-Type)."""
    for name, value in (
        ("x-oss-content-type", form.fields.get("x-oss-content-type")),
        ("file", form.file_content_type),
        ("Content-Type", form.fields.get("content-type")),
    ):
        if value:
            return _as_header_text(name, value)
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _stored_headers(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields OSS keeps as the object's headers. A form can carry what no header can (CR,
    LF, any Unicode): control characters are refused, the rest kept as text, as PutObject's
    headers are (they go back out as their UTF-8 bytes)."""
    out = {}
    for name, value in fields.items():
        if name not in STORED_HEADERS and not name.startswith("x-oss-meta-"):
            continue
        if name.startswith("x-oss-meta-") and not _META_NAME.fullmatch(name):
            raise invalid_argument("A metadata name may only hold letters, digits and '-'.", name)
        out[name] = _as_header_text(name, value)
    return out


def _as_header_text(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise invalid_argument(f"The {name} field contains a control character.", name)
    return value


def _object_acl(fields: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The form field, else the request header of the same name (POSTDOC: the field wins)."""
    return acl.object_acl(
        fields.get("x-oss-object-acl") or headers.get("x-oss-object-acl") or "default"
    )


def _success(
    fields: Mapping[str, str], bucket: str, key: str, headers: dict[str, str], req: OssRequest
) -> Response:
    """``success_action_redirect`` (303), else ``success_action_status`` 200 / 201 / 204."""
    redirect = fields.get("success_action_redirect", "")
    if (
        redirect
        and urlsplit(redirect).scheme in ("http", "https")
        and not _CONTROL.search(redirect)
    ):
        query = urlencode({"bucket": bucket, "key": key, "etag": headers["ETag"].strip('"')})
        # A form value may hold any Unicode; a header only ASCII: percent-encode the rest.
        target = quote(redirect, safe=_URL_SAFE)
        location = target + ("&" if urlsplit(redirect).query else "?") + query
        return Response(status=303, headers={**headers, "Location": location})
    status = fields.get("success_action_status", "")
    if status == "200":
        return Response(status=200, headers=headers)
    if status == "201":
        host = req.headers.get("host", "localhost")
        path = (
            quote(key, safe="/")
            if host.startswith(bucket + ".")
            else f"{bucket}/{quote(key, safe='/')}"
        )
        fields_xml = [("Bucket", bucket), ("Location", f"http://{host}/{path}"), ("Key", key)]
        body = render("PostResponse", [*fields_xml, ("ETag", headers["ETag"])])
        return xml_response(body, status=201, headers=headers)
    return Response(status=204, headers=headers)
