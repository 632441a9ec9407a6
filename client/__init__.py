"""Python SDK for Alibaba Cloud OSS, built around upload callbacks.

Layers, like ``requests``: ``Client``/``Bucket`` (public surface) -> ``transport`` (one pooled
session, retries, errors) -> ``auth`` (V1/V4 signers). It speaks the real OSS protocol, so the
same code runs against OSS and the ossemu emulator::

    client = Client("http://127.0.0.1:8090", access_key_id, access_key_secret)
    bucket = client.get_bucket("examplebucket")
    callback = Callback(url="http://127.0.0.1:23450", query={"user": "put_object"})
    try:
        bucket.put_object("files/hello", file="/tmp/x", callback=callback)
    except CallbackError as e:
        print(f"Callback failed: {e}")
"""

if __name__ != "ossemu.client":
    raise ImportError(
        f"import ossemu.client, not {__name__}: ossemu installs its folders under one name so a "
        "project's own client.py never collides with them (run from a checkout with `make`)"
    )

from .bucket import Bucket
from .callback import Callback, encode_callback_vars
from .callback_verify import callback_string_to_sign, verify_callback_request
from .checkpoint import Checkpoint
from .client import Client
from .crc import Crc64, combine, crc64
from .download import ObjectStream
from .exceptions import (
    AccessDenied,
    BucketAlreadyExists,
    BucketNotEmpty,
    CallbackError,
    ClientError,
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
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    OssError,
    PreconditionFailed,
    RequestError,
    RequestTimeTooSkewed,
    ServerError,
    SignatureDoesNotMatch,
)
from .models import (
    BucketInfo,
    CommonPrefix,
    CompleteMultipartUploadResult,
    CopyObjectResult,
    MultipartUpload,
    ObjectMeta,
    ObjectSummary,
    PartResult,
    PutObjectResult,
)
from .post_form import PostObjectForm
from .retry import RetryPolicy

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
