"""ossemu: an offline Alibaba Cloud OSS emulator built around upload callbacks, and its SDK.

One installed name, so that a project's own ``client.py`` or ``emulator.py`` never shadows ours:

- ``from ossemu import Client, Callback, CallbackError``: the SDK, also ``ossemu.client``;
- ``ossemu.emulator``: the server and its test kit (receiver, pytest plugin, CLI).

The SDK's names load on first use (PEP 562), so importing the emulator's receiver or plugin does
not pull in the SDK; this file is the repository root's, mapped to ``ossemu`` by pyproject.toml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .client import (
        AccessDenied,
        Bucket,
        BucketAlreadyExists,
        BucketInfo,
        BucketNotEmpty,
        Callback,
        CallbackError,
        Checkpoint,
        Client,
        ClientError,
        CommonPrefix,
        CompleteMultipartUploadResult,
        CopyObjectResult,
        Crc64,
        EntityTooSmall,
        InconsistentError,
        InvalidAccessKeyId,
        InvalidArgument,
        InvalidBucketName,
        InvalidDigest,
        InvalidObjectName,
        InvalidPart,
        InvalidPartOrder,
        InvalidRange,
        MalformedXML,
        MultipartUpload,
        NoSuchBucket,
        NoSuchKey,
        NoSuchUpload,
        ObjectMeta,
        ObjectStream,
        ObjectSummary,
        OssError,
        PartResult,
        PostObjectForm,
        PreconditionFailed,
        PutObjectResult,
        RequestError,
        RequestTimeTooSkewed,
        RetryPolicy,
        ServerError,
        SignatureDoesNotMatch,
        callback_string_to_sign,
        combine,
        crc64,
        encode_callback_vars,
        verify_callback_request,
    )

__all__ = [
    "AccessDenied",
    "Bucket",
    "BucketAlreadyExists",
    "BucketInfo",
    "BucketNotEmpty",
    "Callback",
    "CallbackError",
    "Checkpoint",
    "Client",
    "ClientError",
    "CommonPrefix",
    "CompleteMultipartUploadResult",
    "CopyObjectResult",
    "Crc64",
    "EntityTooSmall",
    "InconsistentError",
    "InvalidAccessKeyId",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidDigest",
    "InvalidObjectName",
    "InvalidPart",
    "InvalidPartOrder",
    "InvalidRange",
    "MalformedXML",
    "MultipartUpload",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "ObjectMeta",
    "ObjectStream",
    "ObjectSummary",
    "OssError",
    "PartResult",
    "PostObjectForm",
    "PreconditionFailed",
    "PutObjectResult",
    "RequestError",
    "RequestTimeTooSkewed",
    "RetryPolicy",
    "ServerError",
    "SignatureDoesNotMatch",
    "callback_string_to_sign",
    "combine",
    "crc64",
    "encode_callback_vars",
    "verify_callback_request",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".client", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
