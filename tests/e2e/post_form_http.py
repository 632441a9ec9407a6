"""Hand-built PostObject forms for the e2e tests, signed here with hmac as Alibaba's samples do.

Nothing of our SDK is used: the policy JSON, its base64, the V1/V4 signatures and the multipart
body are all computed here, so a signing bug on either side shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from xml.etree import ElementTree

import requests

from tests.support import form_body


def expiration(seconds: float = 600) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + seconds))


def policy_b64(conditions: list, expires: str | None = None) -> str:
    document = {"expiration": expires or expiration(), "conditions": conditions}
    return base64.b64encode(json.dumps(document).encode()).decode()


def v1_fields(emulator, policy: str) -> list[tuple[str, str]]:
    digest = hmac.new(emulator.access_key_secret.encode(), policy.encode(), hashlib.sha1)
    return [
        ("OSSAccessKeyId", emulator.access_key_id),
        ("policy", policy),
        ("Signature", base64.b64encode(digest.digest()).decode()),
    ]


def v4_fields(emulator, conditions: list) -> list[tuple[str, str]]:
    now = datetime.now(timezone.utc)
    day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{emulator.access_key_id}/{day}/cn-hangzhou/oss/aliyun_v4_request"
    pinned = [
        {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
        {"x-oss-credential": credential},
        {"x-oss-date": stamp},
    ]
    policy = policy_b64(conditions + pinned)
    key = ("aliyun_v4" + emulator.access_key_secret).encode()
    for part in (day, "cn-hangzhou", "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return [
        ("policy", policy),
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-credential", credential),
        ("x-oss-date", stamp),
        ("x-oss-signature", hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()),
    ]


def post(emulator, bucket: str, fields, file=b"data", **kw) -> requests.Response:
    body, content_type = form_body(fields, file, **kw)
    return requests.post(
        f"{emulator.url}/{bucket}",
        data=body,
        headers={"Content-Type": content_type},
        allow_redirects=False,
        timeout=30,
    )


def error(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}


def stored_keys(emulator, bucket: str) -> list[str]:
    return [o.key for o in emulator.services.storage.list_objects(bucket).objects]


def signed(emulator, bucket: str) -> list[tuple[str, str]]:
    return v1_fields(emulator, policy_b64([{"bucket": bucket}]))


def without(fields: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if k != name]


def replace(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == name else v) for k, v in fields]
