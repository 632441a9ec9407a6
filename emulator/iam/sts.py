"""STS on the emulator: AssumeRole and GetCallerIdentity over the decoded request, no Flask.

:func:`serve` checks the caller's signature (RPC HMAC-SHA1 or ACS3-HMAC-SHA256, made with the
wall clock, so skew is measured against wall time), then runs the action and returns STS's JSON
answer; every refusal is a :class:`StsError` carrying STS's status, Code and Message
(docs/direct-upload.md section 4.5). Issued credentials expire by the emulator's clock.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from ..protocol.auth import Credential
from .authorize import ACCOUNT_ID
from .credentials import CredentialError, Credentials
from .policy import PolicyError, parse
from .signing import (
    acs3_canonical_request,
    acs3_signature,
    acs3_string_to_sign,
    matches,
    parse_acs3,
    rpc_signature,
    rpc_string_to_sign,
)
from .tokens import SessionClaims

VERSION = "2015-04-01"
HOST_ID = "sts.aliyuncs.com"
MAX_SKEW_SECONDS = 15 * 60
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 43200, 3600
MAX_POLICY_BYTES = 1024
_ROLE_ARN = re.compile(r"acs:ram::([0-9]+):role/([A-Za-z0-9.@_\-]{1,64})", re.IGNORECASE)
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_\-]{2,32}")  # docs: 2-32 (newer pages: 64?)
_MISMATCH = "Specified signature is not matched with our calculation. server string to sign is:"

# reason (credentials.CredentialError) -> (status, Code, Message)
_KEY_ERRORS = {
    "unknown-key": (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
    "missing-token": (400, "MissingSecurityToken", "SecurityToken is mandatory for this action."),
    "invalid-token": (
        400,
        "InvalidSecurityToken.Malformed",
        "Specified SecurityToken is malformed.",
    ),
    "token-mismatch": (
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Specified SecurityToken mismatch with the AccessKey.",
    ),
    "token-expired": (400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."),
    "unexpected-token": (
        400,
        "InvalidSecurityToken.Malformed",
        "Specified SecurityToken is malformed.",
    ),
}


class StsError(Exception):
    """An STS error answer: ``{"RequestId", "HostId", "Code", "Message"}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message

    def to_json(self, request_id: str) -> dict[str, str]:
        return {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}",
        }


@dataclass(frozen=True)
class StsCall:
    """An STS request as the route decoded it."""

    method: str
    path: str
    #: Query parameters, in wire order (RPC may also send parameters in ``form``).
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    #: Lower-cased header name -> every value sent under it.
    headers: Mapping[str, list[str]]
    body_sha256: str

    def header(self, name: str) -> str:
        return (self.headers.get(name) or [""])[0].strip()

    def param(self, name: str) -> str | None:
        return next((v for k, v in [*self.query, *self.form] if k == name), None)

    @property
    def action(self) -> str:
        return self.header("x-acs-action") or self.param("Action") or ""


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    credential: Credential
    session: SessionClaims | None


def serve(
    call: StsCall, credentials: Credentials, *, wall: float, check_signature: bool = True
) -> dict[str, object]:
    """Authenticate ``call`` and run its action; the JSON answer, or :class:`StsError`."""
    caller = _authenticate(call, credentials, wall) if check_signature else _owner(credentials)
    request_id = new_request_id()
    if call.action == "AssumeRole":
        return {"RequestId": request_id, **assume_role(call, caller, credentials)}
    if call.action == "GetCallerIdentity":
        return {"RequestId": request_id, **caller_identity(caller)}
    raise StsError(
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    )


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def assume_role(call: StsCall, caller: Caller, credentials: Credentials) -> dict[str, object]:
    """AssumeRole: validate the parameters, then seal new temporary credentials."""
    if caller.session is not None:
        raise StsError(
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        )
    role_arn = call.param("RoleArn") or ""
    role = _ROLE_ARN.fullmatch(role_arn)
    if role is None:
        raise StsError(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
    session_name = call.param("RoleSessionName") or ""
    if not _SESSION_NAME.fullmatch(session_name):
        raise StsError(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        )
    duration = _duration(call.param("DurationSeconds"))
    policy = call.param("Policy") or None
    if policy is not None:
        if len(policy.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
            raise StsError(
                400,
                "InvalidParameter.PolicySize",
                f"The size of Policy must be smaller than {MAX_POLICY_BYTES} bytes.",
            )
        try:
            parse(policy)
        except PolicyError:
            raise StsError(
                400,
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy has not passed grammar check.",
            ) from None
    issued = credentials.issue(
        caller.access_key_id,
        duration=duration,
        policy=policy,
        role_arn=role_arn,
        session_name=session_name,
    )
    return {
        "AssumedRoleUser": {
            "Arn": f"{role_arn}/{session_name}",
            "AssumedRoleId": f"{_role_id(role_arn)}:{session_name}",
        },
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.secret,
            "SecurityToken": issued.security_token,
            "Expiration": iso8601(issued.expiration),
        },
    }


def caller_identity(caller: Caller) -> dict[str, object]:
    """GetCallerIdentity: the account root for a long-term key, the assumed role for STS."""
    claims = caller.session
    if claims is None:
        return {
            "AccountId": ACCOUNT_ID,
            "UserId": ACCOUNT_ID,
            "PrincipalId": ACCOUNT_ID,
            "IdentityType": "Account",
            "Arn": f"acs:ram::{ACCOUNT_ID}:root",
        }
    role_id = _role_id(claims.role_arn)
    return {
        "AccountId": ACCOUNT_ID,
        "RoleId": role_id,
        "PrincipalId": f"{role_id}:{claims.session_name}",
        "IdentityType": "AssumedRoleUser",
        "Arn": f"{claims.role_arn}/{claims.session_name}",
    }


def iso8601(epoch: float) -> str:
    """STS's ``Expiration`` shape: ``yyyy-MM-ddTHH:mm:ssZ`` in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _duration(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_DURATION
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not MIN_DURATION <= int(raw) <= MAX_DURATION:
        raise StsError(
            400,
            "InvalidParameter.DurationSeconds",
            "The Min/Max value of DurationSeconds is 15min/1hr.",  # the docs quote it so
        )
    return int(raw)


def _role_id(role_arn: str) -> str:
    """A stable 18-digit id per role, shaped like RAM's."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, role_arn.lower()).int)[:18]


def _owner(credentials: Credentials) -> Caller:
    key_id, secret = next(iter(credentials.long_term.items()))
    return Caller(key_id, Credential(secret), None)


def _authenticate(call: StsCall, credentials: Credentials, wall: float) -> Caller:
    fields = parse_acs3(call.header("authorization"))
    if fields is not None:
        key_id, token, stamp = (
            fields["Credential"],
            call.header("x-acs-security-token"),
            call.header("x-acs-date"),
        )
    else:
        key_id, token, stamp = (
            call.param("AccessKeyId") or "",
            call.param("SecurityToken") or "",
            call.param("Timestamp") or "",
        )
        if not key_id:
            raise StsError(400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action.")
        if not call.param("Signature"):
            raise StsError(400, "MissingSignature", "Signature is mandatory for this action.")
    _check_timestamp(stamp, wall)
    try:
        credential, claims = credentials.resolve(key_id, token or None)
    except CredentialError as e:
        raise StsError(*_KEY_ERRORS[e.reason]) from None
    if fields is not None:
        _verify_acs3(call, fields, credential.secret)
    else:
        string_to_sign = rpc_string_to_sign(call.method, [*call.query, *call.form])
        if not matches(
            rpc_signature(credential.secret, string_to_sign), call.param("Signature") or ""
        ):
            raise StsError(400, "SignatureDoesNotMatch", _MISMATCH + string_to_sign)
    return Caller(key_id, credential, claims)


def _verify_acs3(call: StsCall, fields: Mapping[str, str], secret: str) -> None:
    signed = fields["SignedHeaders"].lower().split(";")
    required = {"host"} | {name for name in call.headers if name.startswith("x-acs-")}
    if signed != sorted(signed) or not required <= set(signed):
        message = "SignedHeaders must list host and every x-acs-* header, sorted."
        raise StsError(400, "IncompleteSignature", message)
    payload_hash = call.header("x-acs-content-sha256")
    if payload_hash != call.body_sha256:
        raise StsError(
            400,
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the request body.",
        )
    canonical = acs3_canonical_request(
        call.method, call.path, call.query, call.headers, signed, payload_hash
    )
    string_to_sign = acs3_string_to_sign(canonical)
    if not matches(acs3_signature(secret, string_to_sign), fields["Signature"]):
        raise StsError(400, "SignatureDoesNotMatch", _MISMATCH + string_to_sign.replace("\n", " "))


def _check_timestamp(stamp: str | None, wall: float) -> None:
    try:
        when = datetime.fromisoformat((stamp or "").replace("Z", "+00:00"))
        seconds = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    except ValueError:
        raise StsError(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ) from None
    if abs(seconds - wall) > MAX_SKEW_SECONDS:
        raise StsError(
            400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        )
