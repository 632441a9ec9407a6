"""Temporary credentials from STS ``AssumeRole``, on Alibaba Cloud or on the emulator.

:func:`assume_role` makes one RPC call (HMAC-SHA1, docs/direct-upload.md section 4.6), the way
``aliyun-python-sdk-core`` and ali-oss do, with a long-term key. :class:`AssumeRoleProvider`
hands a :class:`~ossemu.client.Client` credentials and calls AssumeRole again shortly before
they expire, so a long-running uploader never signs with an expired token::

    provider = AssumeRoleProvider("https://sts.aliyuncs.com", key_id, secret, role_arn)
    client = Client(endpoint, credentials_provider=provider)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

import requests

from .auth import Credentials
from .exceptions import OssError, RequestError

DEFAULT_STS_ENDPOINT = "https://sts.aliyuncs.com"


class StsError(OssError):
    """STS refused the call: its ``Code`` and ``Message``, the HTTP status and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message} (status {status}, request id {request_id})")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


@dataclass(frozen=True)
class StsCredentials:
    """What AssumeRole returns; ``expiration`` in epoch seconds."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: float

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.access_key_secret, self.security_token)

    def as_dict(self) -> dict[str, str]:
        """STS's own field names, ``Expiration`` as ``yyyy-mm-ddTHH:MM:SSZ``."""
        return {
            "AccessKeyId": self.access_key_id,
            "AccessKeySecret": self.access_key_secret,
            "SecurityToken": self.security_token,
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expiration)),
        }


def prefix_policy(
    bucket: str = "*",
    prefix: str = "",
    actions: Iterable[str] = ("oss:PutObject", "oss:GetObject"),
) -> str:
    """A session policy confining ``actions`` to ``bucket``/``prefix``*, as an app server hands
    its users; ``oss:ListObjects`` is allowed on the bucket for listings under ``prefix``."""
    actions = list(actions)
    object_actions = [a for a in actions if a.lower() != "oss:listobjects"]
    statements: list[dict[str, object]] = []
    if object_actions:
        statements.append(
            {
                "Effect": "Allow",
                "Action": object_actions,
                "Resource": [f"acs:oss:*:*:{bucket}/{prefix}*"],
            }
        )
    if len(object_actions) < len(actions):
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{bucket}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{prefix}*"]}},
            }
        )
    return json.dumps({"Version": "1", "Statement": statements}, separators=(",", ":"))


def _percent(text: str) -> str:
    return quote(text, safe="~")


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    """base64(HMAC-SHA1(secret + "&", METHOD&%2F&percent(sorted query)))."""
    query = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&%2F&{_percent(query)}"
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def assume_role(
    endpoint: str,
    access_key_id: str,
    access_key_secret: str,
    role_arn: str,
    role_session_name: str = "ossemu",
    *,
    policy: str | None = None,
    duration_seconds: int = 3600,
    session: requests.Session | None = None,
    timeout: float = 10,
) -> StsCredentials:
    """One AssumeRole call; raises :class:`StsError` with STS's code on refusal."""
    params = {
        "Action": "AssumeRole",
        "Version": "2015-04-01",
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "RoleArn": role_arn,
        "RoleSessionName": role_session_name,
        "DurationSeconds": str(duration_seconds),
    }
    if policy is not None:
        params["Policy"] = policy
    params["Signature"] = rpc_signature("POST", params, access_key_secret)
    http = session or requests.Session()
    try:
        response = http.post(endpoint.rstrip("/") + "/", data=params, timeout=timeout)
        body = response.json()
    except requests.RequestException as e:
        raise RequestError(f"AssumeRole at {endpoint} failed: {e}", e) from e
    except ValueError as e:
        raise StsError(response.status_code, "InvalidResponse", response.text[:200]) from e
    if response.status_code != 200:
        raise StsError(
            response.status_code,
            str(body.get("Code", "")),
            str(body.get("Message", "")),
            str(body.get("RequestId", "")),
        )
    creds = body["Credentials"]
    expiration = datetime.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    return StsCredentials(
        creds["AccessKeyId"],
        creds["AccessKeySecret"],
        creds["SecurityToken"],
        expiration.replace(tzinfo=timezone.utc).timestamp(),
    )


class AssumeRoleProvider:
    """Credentials from AssumeRole, renewed ``refresh_before`` seconds before they expire.

    ``clock`` is what "now" means for that decision (the emulator's clock in tests); one
    provider is safe to share between threads.
    """

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        role_arn: str,
        role_session_name: str = "ossemu",
        *,
        policy: str | None = None,
        duration_seconds: int = 3600,
        refresh_before: float = 300,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self._call = lambda: assume_role(
            endpoint,
            access_key_id,
            access_key_secret,
            role_arn,
            role_session_name,
            policy=policy,
            duration_seconds=duration_seconds,
            session=session,
        )
        self.refresh_before = refresh_before
        self.clock = clock
        self._current: StsCredentials | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def get_credentials(self) -> Credentials:
        """Valid credentials, calling AssumeRole first if none are or they expire soon."""
        with self._lock:
            current = self._current
            if current is None or self.clock() >= current.expiration - self.refresh_before:
                current = self._current = self._call()
                self.refreshes += 1
            return current.credentials
