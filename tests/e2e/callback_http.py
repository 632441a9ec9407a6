"""Hand-built PutObject requests for the callback tests, signed with our SDK's signer.

Each test shows the exact bytes a user of any SDK would send (``x-oss-callback`` headers, query
parameters) and receive.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.etree import ElementTree

import requests

from ossemu.client.auth import Credentials, OssAuth, Signer
from ossemu.emulator.server import EmulatorServer

CONNECT_FAILED = "Error status : -1.OSS can not connect to your callbackUrl, please check it."


def put(
    emulator: EmulatorServer,
    bucket: str,
    key: str,
    data: bytes,
    headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> requests.Response:
    """A signed PutObject carrying exactly ``headers`` (and ``params``) and nothing else."""
    credentials = Credentials(emulator.access_key_id, emulator.access_key_secret)
    signer = Signer(credentials, "v4", emulator.config.region)
    return requests.put(
        f"{emulator.url}/{bucket}/{quote(key, safe='/')}",
        data=data,
        headers=headers,
        params=params,
        auth=OssAuth(signer, bucket, key),
        timeout=30,
    )


def error_fields(response: requests.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}
