"""Multipart upload operations."""

from __future__ import annotations

import base64

from flask import Response

from ..callbacks import parse_callback
from ..protocol.errors import invalid_argument
from ..protocol.http import check_content_md5, parse_uint
from ..protocol.xml import Node, encode_key, etag, parse_complete_parts, render, timestamp
from ..services import services, storage
from . import part_copy
from .acl import upload_acl
from .options import check_traffic_limit, upload_options
from .parsing import (
    OssRequest,
    content_type_for,
    encoding_type,
    forbid_overwrite,
    int_arg,
    part_number,
    stored_headers,
)
from .responses import upload_headers, xml_response
from .upload_callback import callback_answer


def initiate_multipart_upload(req: OssRequest) -> Response:
    """InitiateMultipartUpload (callback headers sent here are ignored, as on OSS):
    https://www.alibabacloud.com/help/en/oss/developer-reference/initiatemultipartupload"""
    options = upload_options(req)
    upload = storage().initiate_multipart_upload(
        req.bucket or "",
        req.key or "",
        content_type=content_type_for(req),
        headers={**stored_headers(req.headers), **options.encryption},
        storage_class=options.storage_class,
        tags=options.tags,
        acl=upload_acl(req.headers),
    )
    enc = encoding_type(req.args)
    return xml_response(
        render(
            "InitiateMultipartUploadResult",
            [
                ("Bucket", upload.bucket),
                ("Key", encode_key(upload.key, enc)),
                ("UploadId", upload.upload_id),
                ("EncodingType", enc),
            ],
        )
    )


def upload_part(req: OssRequest) -> Response:
    """UploadPart (and UploadPartCopy when ``x-oss-copy-source`` is set):
    https://www.alibabacloud.com/help/en/oss/developer-reference/uploadpart"""
    if part_copy.SOURCE in req.headers:
        return part_copy.upload_part_copy(req)
    check_traffic_limit(req)
    part = storage().upload_part(
        req.bucket or "",
        req.key or "",
        req.args["uploadId"],
        part_number(req.args),
        req.body_chunks(),
        expected_md5=req.headers.get("content-md5"),
        expected_size=req.content_length(),
    )
    return Response(
        status=200,
        headers={
            "ETag": etag(part.etag),
            "Content-MD5": base64.b64encode(bytes.fromhex(part.etag)).decode(),
            "x-oss-hash-crc64ecma": str(part.crc64),
        },
    )


def complete_multipart_upload(req: OssRequest) -> Response:
    """CompleteMultipartUpload, with the same callback engine as PutObject:
    https://www.alibabacloud.com/help/en/oss/developer-reference/completemultipartupload"""
    svc = services()
    spec = parse_callback(req.headers, req.args, strict_urls=svc.config.strict_callback_urls)
    body = req.xml_body()
    check_content_md5(body, req.headers.get("content-md5"))
    if req.headers.get("x-oss-complete-all", "").lower() == "yes":
        if body:
            raise invalid_argument(
                "Should not speficy both complete all header and http body.",
                "x-oss-complete-all",
                "yes",
            )
        chosen = None
    else:
        chosen = parse_complete_parts(body)
    meta = storage().complete_multipart_upload(
        req.bucket or "",
        req.key or "",
        req.args["uploadId"],
        chosen,
        forbid_overwrite=forbid_overwrite(req),
    )
    enc = encoding_type(req.args)
    host = req.headers.get("host", "localhost")
    result = render(
        "CompleteMultipartUploadResult",
        [
            ("EncodingType", enc),
            ("Location", f"http://{host}/{meta.bucket}/{meta.key}"),
            ("Bucket", meta.bucket),
            ("Key", encode_key(meta.key, enc)),
            ("ETag", etag(meta.etag)),
        ],
    )
    headers = upload_headers(meta)
    if spec is None:
        return xml_response(result, headers=headers)
    return callback_answer(req, spec, meta, "CompleteMultipartUpload", headers)


def abort_multipart_upload(req: OssRequest) -> Response:
    """AbortMultipartUpload: https://www.alibabacloud.com/help/en/oss/developer-reference/abortmultipartupload"""
    storage().abort_multipart_upload(req.bucket or "", req.key or "", req.args["uploadId"])
    return Response(status=204)


def list_parts(req: OssRequest) -> Response:
    """ListParts: https://www.alibabacloud.com/help/en/oss/developer-reference/listparts"""
    args = req.args
    marker = args.get("part-number-marker", "")
    after = parse_uint(marker) if marker else 0
    if after is None:
        raise invalid_argument(
            "part-number-marker must be an integer.", "part-number-marker", marker
        )
    max_parts = int_arg(args, "max-parts", 1000, 1000)
    page = storage().list_parts(
        req.bucket or "",
        req.key or "",
        args["uploadId"],
        marker=after,
        max_parts=max_parts,
    )
    enc = encoding_type(req.args)
    return xml_response(
        render(
            "ListPartsResult",
            [
                ("EncodingType", enc),
                ("Bucket", req.bucket),
                ("Key", encode_key(req.key or "", enc)),
                ("UploadId", args["uploadId"]),
                ("PartNumberMarker", after),
                ("NextPartNumberMarker", page.next_part_number_marker),
                ("MaxParts", max_parts),
                ("IsTruncated", page.is_truncated),
                ("StorageClass", page.upload.storage_class if page.upload else "Standard"),
                *_client_encryption(page.upload.headers if page.upload else {}),
                *[
                    (
                        "Part",
                        [
                            ("PartNumber", p.part_number),
                            ("LastModified", timestamp(p.last_modified)),
                            ("ETag", etag(p.etag)),
                            ("HashCrc64ecma", str(p.crc64)),
                            ("Size", p.size),
                        ],
                    )
                    for p in page.parts
                ],
            ],
        )
    )


# v2's client-side encryption resumes an upload from these ListParts elements, which OSS fills
# from the x-oss-meta-client-side-encryption-* headers given at InitiateMultipartUpload.
_CLIENT_ENCRYPTION = {
    "ClientEncryptionKey": "key",
    "ClientEncryptionStart": "start",
    "ClientEncryptionCekAlg": "cek-alg",
    "ClientEncryptionWrapAlg": "wrap-alg",
    "ClientEncryptionDataSize": "data-size",
    "ClientEncryptionPartSize": "part-size",
}


def _client_encryption(headers: dict[str, str]) -> list[Node]:
    prefix = "x-oss-meta-client-side-encryption-"
    return [(tag, headers.get(prefix + name)) for tag, name in _CLIENT_ENCRYPTION.items()]


def list_multipart_uploads(req: OssRequest) -> Response:
    """ListMultipartUploads: https://www.alibabacloud.com/help/en/oss/developer-reference/listmultipartuploads"""
    args = req.args
    max_uploads = int_arg(args, "max-uploads", 1000, 1000)
    page = storage().list_multipart_uploads(
        req.bucket or "",
        prefix=args.get("prefix", ""),
        delimiter=args.get("delimiter", ""),
        key_marker=args.get("key-marker", ""),
        upload_id_marker=args.get("upload-id-marker", ""),
        max_uploads=max_uploads,
    )
    enc = encoding_type(req.args)
    return xml_response(
        render(
            "ListMultipartUploadsResult",
            [
                ("EncodingType", enc),
                ("Bucket", req.bucket),
                ("KeyMarker", encode_key(args.get("key-marker", ""), enc)),
                ("UploadIdMarker", args.get("upload-id-marker", "")),
                ("NextKeyMarker", encode_key(page.next_key_marker, enc)),
                ("NextUploadIdMarker", page.next_upload_id_marker),
                ("Delimiter", encode_key(args.get("delimiter", ""), enc)),
                ("Prefix", encode_key(args.get("prefix", ""), enc)),
                ("MaxUploads", max_uploads),
                ("IsTruncated", page.is_truncated),
                *[
                    (
                        "Upload",
                        [
                            ("Key", encode_key(u.key, enc)),
                            ("UploadId", u.upload_id),
                            ("StorageClass", u.storage_class),
                            ("Initiated", timestamp(u.initiated)),
                        ],
                    )
                    for u in page.uploads
                ],
                *[
                    ("CommonPrefixes", [("Prefix", encode_key(p, enc))])
                    for p in page.common_prefixes
                ],
            ],
        )
    )
