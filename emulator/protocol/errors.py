"""OSS errors: one exception family per HTTP status, one table, one renderer.

Raise deep (``raise NotFound("NoSuchKey", Key=key)``); the app's single error handler turns
any :class:`OssError` into the ``<Error>`` XML that real OSS sends. Codes, messages, statuses and
EC values follow https://www.alibabacloud.com/help/en/oss/user-guide/error-codes and the error
centre pages (``0002-…`` auth, ``0007-…`` callback, ``0015-…`` bucket, ``0016/0026-…`` object,
``0042-…`` multipart, ``0006-…`` PostObject forms and policies).
"""

from __future__ import annotations

import base64
import re
from xml.sax.saxutils import escape

# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# code -> (status, default message, EC)
ERRORS: dict[str, tuple[int, str, str]] = {
    "AccessDenied": (403, "You have no right to access this object.", "0003-00000001"),
    # A refused CORS preflight; its message is protocol.cors.FORBIDDEN. No EC is documented.
    "AccessForbidden": (403, "This CORS request is not allowed.", ""),
    # A request the HTTP server could not parse (emulator/refusals.py): the code and message
    # OSS's front end answers with; no EC is documented.
    "BadRequest": (400, "Your browser sent a request that this server could not understand.", ""),
    "BucketAlreadyExists": (409, "The requested bucket name is not available.", "0015-00000104"),
    "BucketNotEmpty": (409, "The bucket has objects. Please delete them first.", "0015-00000301"),
    "CallbackFailed": (203, "Error status : -1.", "0007-00000203"),
    "EntityTooLarge": (
        400,
        "Your proposed upload exceeds the maximum allowed size.",
        "0016-00000502",
    ),
    "EntityTooSmall": (
        400,
        "Your proposed upload smaller than the minimum allowed size.",
        "0042-00000008",
    ),
    "FieldItemTooLong": (400, "Your name of form field is too long.", "0006-00000110"),
    "FileAlreadyExists": (
        409,
        "The object you specified already exists and can not be overwritten.",
        "0016-00000708",
    ),
    # Image processing (IMG): https://www.alibabacloud.com/help/en/oss/user-guide/common-errors
    "ImageTooLarge": (400, "The image size exceeds the limit.", "0040-00000012"),
    "IncompleteBody": (
        400,
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        "0016-00000212",
    ),
    "IncorrectNumberOfFilesInPOSTRequest": (
        400,
        "POST requires exactly one file upload per request.",
        "",
    ),
    "InternalError": (500, "We encountered an internal error. Please try again.", "0000-00000001"),
    # Not an OSS code (OSS documents none for a full disk): see emulator/storage/space.py.
    "InsufficientStorage": (
        507,
        "The emulator's data dir has no space left; free some and send the request again.",
        "",
    ),
    "InvalidAccessKeyId": (
        403,
        "The OSS Access Key Id you provided does not exist in our records.",
        "0002-00000902",
    ),
    "InvalidArgument": (400, "The argument is invalid.", "0017-00000001"),
    # STS tokens (docs/direct-upload.md section 5.2).
    "InvalidSecurityToken": (403, "The security token you provided is invalid.", "0002-00000006"),
    "AccessKeyIdAndSecurityTokenNotMatch": (
        403,
        "The OSS access key id and security token you provided does not match.",
        "0002-00000004",
    ),
    "SecurityTokenExpired": (403, "The security token you provided has expired.", "0002-00000007"),
    "InvalidBucketName": (400, "The specified bucket is not valid.", "0015-00000101"),
    "InvalidDigest": (400, "The Content-MD5 you specified was invalid.", "0016-00000106"),
    "InvalidCRC64": (
        400,
        "The x-oss-hash-crc64ecma you specified does not match what we calculated.",
        "0016-00000107",
    ),
    "InvalidPolicyDocument": (400, "Invalid Policy: Invalid JSON.", "0006-00000201"),
    "InvalidEncryptionAlgorithmError": (
        400,
        "The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4",
        "0005-00000003",
    ),
    "InvalidObjectName": (400, "The specified object is not valid.", "0016-00000005"),
    "InvalidTargetType": (400, "The symlink target object type is not valid", ""),
    "InvalidObjectState": (
        403,
        "The operation is not valid for the object's state",
        "0016-00000404",
    ),
    "InvalidPart": (
        400,
        "One or more of the specified parts could not be found or the specified entity tag "
        "might not have matched the part's entity tag.",
        "0042-00000002",
    ),
    "InvalidPartOrder": (400, "The list of parts was not in ascending order.", "0042-00000003"),
    "InvalidRange": (416, "The requested range cannot be satisfied", "0016-00000210"),
    "MalformedPOSTRequest": (
        400,
        "The body of your POST request is not well-formed multipart/form-data.",
        "0006-00000104",
    ),
    "MalformedXML": (
        400,
        "The XML you provided was not well-formed or did not validate against our published "
        "schema.",
        "0016-00000601",
    ),
    "MaxPOSTPreDataLengthExceededError": (
        400,
        "Your POST request fields preceding the upload file were too large.",
        "0006-00000112",
    ),
    "MethodNotAllowed": (
        405,
        "The specified method is not allowed against this resource.",
        "0000-00000002",
    ),
    "MissingArgument": (400, "A required parameter is not specified.", ""),
    "MissingContentLength": (
        411,
        "You must provide the Content-Length HTTP header.",
        "0016-00000208",
    ),
    "NoSuchBucket": (404, "The specified bucket does not exist.", "0015-00000101"),
    "NoSuchCORSConfiguration": (404, "The CORS Configuration does not exist.", ""),
    "NoSuchKey": (404, "The specified key does not exist.", "0026-00000001"),
    "NoSuchUpload": (
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        "0042-00000002",
    ),
    "NotImplemented": (
        501,
        "A header you provided implies functionality that is not implemented.",
        "0000-00000003",
    ),
    "NotSymlink": (400, "The specified object is not a symlink.", ""),
    "ObjectNotAppendable": (409, "The object is not appendable", "0026-00000017"),
    "OperationNotSupported": (
        400,
        "The operation is not supported for this resource",
        "0016-00000702",
    ),
    "PositionNotEqualToLength": (409, "Position is not equal to file length", "0026-00000016"),
    "PreconditionFailed": (
        412,
        "At least one of the pre-conditions you specified did not hold.",
        "0026-00000005",
    ),
    "RestoreAlreadyInProgress": (
        409,
        "The restore operation is in progress.",
        "0016-00000701",
    ),
    "RequestIsNotMultiPartContent": (
        400,
        "Bucket POST must be of the enclosure-type multipart/form-data.",
        "",
    ),
    "RequestTimeTooSkewed": (
        403,
        "The difference between the request time and the current time is too large.",
        "0002-00000504",
    ),
    "RequestTimeout": (
        400,
        "Your socket connection to the server was not read from or written "
        "to within the timeout period.",
        "0016-00000213",
    ),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        "0002-00000040",
    ),
    "SymlinkTargetNotExist": (404, "The symlink target object does not exist", ""),
    "TooManyBuckets": (
        400,
        "You have attempted to create more buckets than allowed.",
        "0015-00000102",
    ),
}


class OssError(Exception):
    """An OSS error response; ``details`` become extra XML elements (``Key``, ``BucketName``…)."""

    status = 400

    def __init__(
        self, code: str, message: str | None = None, *, ec: str | None = None, **details: str
    ) -> None:
        status, default_message, default_ec = ERRORS.get(code, (self.status, code, ""))
        self.code = code
        self.message = message or default_message
        self.status = status
        self.ec = ec or default_ec
        self.details = details
        super().__init__(f"{code}: {self.message}")

    def to_xml(self, request_id: str, host_id: str) -> bytes:
        """Render the ``<Error>`` document exactly as OSS lays it out."""
        fields = [
            ("Code", self.code),
            ("Message", self.message),
            ("RequestId", request_id),
            ("HostId", host_id),
        ]
        fields += [(k, str(v)) for k, v in self.details.items()]
        if self.ec:
            fields += [
                ("EC", self.ec),
                ("RecommendDoc", f"https://api.aliyun.com/troubleshoot?q={self.ec}"),
            ]
        body = "".join(f"  <{k}>{escape(_NOT_XML.sub('?', v))}</{k}>\n" for k, v in fields)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n{body}</Error>\n'.encode()

    def headers(self, request_id: str, host_id: str) -> dict[str, str]:
        """Headers every error carries; ``x-oss-err`` lets SDKs decode body-less HEAD errors."""
        headers = {"x-oss-err": base64.b64encode(self.to_xml(request_id, host_id)).decode()}
        if self.ec:
            headers["x-oss-ec"] = self.ec
        return headers


# Families by HTTP status: a reader sees at the raise site what the client will get.
class BadRequest(OssError):
    status = 400


class Forbidden(OssError):
    status = 403


class NotFound(OssError):
    status = 404


class Conflict(OssError):
    status = 409


class CallbackFailed(OssError):
    """The upload committed but the app server's answer was not acceptable (HTTP 203)."""

    status = 203

    def __init__(self, message: str) -> None:
        super().__init__("CallbackFailed", message)


def invalid_argument(
    message: str, name: str | None = None, value: str | None = None, *, ec: str | None = None
) -> BadRequest:
    """``InvalidArgument`` with OSS's optional ``ArgumentName``/``ArgumentValue`` elements and,
    where the OSS error centre gives the case its own code, that ``ec``."""
    details = {}
    if name is not None:
        details["ArgumentName"] = name
    if value is not None:
        details["ArgumentValue"] = value
    return BadRequest("InvalidArgument", message, ec=ec, **details)
