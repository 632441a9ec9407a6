"""V4 signatures are held to their scope, as OSS holds them (issue 15, "V4 dates"; issue 17).

A presigned URL dated a year ahead is refused (else the 7-day limit means nothing), the scope's
date must be x-oss-date's day, and the scope's region must be the server's (``--region``,
default cn-hangzhou): OSS answers 400 InvalidArgument, EC 0002-00000226.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import oss2
import pytest
import requests

from ossemu.client.auth import (
    V4_ALGORITHM,
    Credentials,
    Signer,
    v4_canonical_headers,
    v4_canonical_query,
    v4_canonical_request,
    v4_canonical_uri,
    v4_signature,
    v4_signing_key,
    v4_string_to_sign,
)
from tests.reliability.helpers import BUCKET, KEY_ID, OBJECT, SECRET, raw_request
from tests.support import target


def _presigned(port: int, stamp: str, day: str, region: str, expires: int = 600) -> str:
    """A V4 URL for GET obj whose x-oss-date, scope day and region are chosen freely."""
    scope = f"{day}/{region}/oss/aliyun_v4_request"
    query = [
        ("x-oss-signature-version", V4_ALGORITHM),
        ("x-oss-date", stamp),
        ("x-oss-expires", str(expires)),
        ("x-oss-credential", f"{KEY_ID}/{scope}"),
    ]
    canonical = v4_canonical_request(
        "GET",
        v4_canonical_uri(BUCKET, "obj"),
        v4_canonical_query(query),
        v4_canonical_headers({}),
    )
    signature = v4_signature(
        v4_signing_key(SECRET, day, region), v4_string_to_sign(stamp, scope, canonical)
    )
    return f"http://127.0.0.1:{port}" + target(
        BUCKET, "obj", [*query, ("x-oss-signature", signature)]
    )


def _stamp(when: datetime) -> tuple[str, str]:
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    return stamp, stamp[:8]


def _error(response: requests.Response) -> tuple[int, str, str]:
    import re

    code = re.search(r"<Code>([^<]*)</Code>", response.text)
    message = re.search(r"<Message>([^<]*)</Message>", response.text)
    return response.status_code, code.group(1) if code else "", message.group(1) if message else ""


def test_a_presigned_url_dated_now_works(emulator):
    stamp, day = _stamp(datetime.now(timezone.utc))
    assert requests.get(_presigned(emulator.port, stamp, day, "cn-hangzhou")).status_code == 200


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=365), timedelta(days=3650)])
def test_a_presigned_url_dated_in_the_future_is_refused(emulator, ahead):
    stamp, day = _stamp(datetime.now(timezone.utc) + ahead)
    status, code, _ = _error(requests.get(_presigned(emulator.port, stamp, day, "cn-hangzhou")))
    assert (status, code) == (403, "RequestTimeTooSkewed")


def test_a_scope_date_other_than_x_oss_date_is_refused(emulator):
    now = datetime.now(timezone.utc)
    stamp, _ = _stamp(now)
    _, yesterday = _stamp(now - timedelta(days=1))
    got = _error(requests.get(_presigned(emulator.port, stamp, yesterday, "cn-hangzhou")))
    assert got == (400, "InvalidArgument", "Invalid signing date in x-oss-credential.")


def test_a_header_scope_date_other_than_x_oss_date_is_refused(emulator):
    signer = Signer(Credentials(KEY_ID, SECRET), "v4", "cn-hangzhou")
    headers: dict[str, str] = {}
    signer.sign_headers("GET", headers, BUCKET, "obj", [])
    stamp = headers["x-oss-date"]
    other = (datetime.strptime(stamp[:8], "%Y%m%d") - timedelta(days=1)).strftime("%Y%m%d")
    headers["Authorization"] = headers["Authorization"].replace(f"/{stamp[:8]}/", f"/{other}/")
    response = raw_request(emulator.port, "GET", BUCKET, "obj", headers=headers, sign=False)
    assert (response.status, response.code) == (400, "InvalidArgument")
    assert b"Invalid signing date in Authorization header." in response.body


def test_another_signing_region_gets_oss_invalid_argument(emulator):
    auth = oss2.AuthV4(KEY_ID, SECRET)
    bucket = oss2.Bucket(
        auth, f"http://127.0.0.1:{emulator.port}", BUCKET, region="cn-hangzhou-test-1"
    )
    with pytest.raises(oss2.exceptions.OssError) as raised:
        bucket.get_object("obj")
    error = raised.value
    assert (error.status, error.code, error.ec) == (400, "InvalidArgument", "0002-00000226")
    assert error.message == "Invalid signing region in Authorization header."
    right = oss2.Bucket(auth, f"http://127.0.0.1:{emulator.port}", BUCKET, region="cn-hangzhou")
    assert right.get_object("obj").read() == OBJECT


def test_an_empty_signing_region_gets_oss_message(emulator):
    stamp, day = _stamp(datetime.now(timezone.utc))
    got = _error(requests.get(_presigned(emulator.port, stamp, day, "")))
    assert got == (400, "InvalidArgument", "The signing region in credential is invalid.")


def test_the_server_region_is_the_configured_one(tmp_path):
    from ossemu.emulator.config import EmulatorConfig
    from ossemu.emulator.server import EmulatorServer

    config = EmulatorConfig(
        data_dir=tmp_path,
        port=0,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        region="eu-west-1",
    )
    with EmulatorServer(config) as emulator:
        url = f"http://127.0.0.1:{emulator.port}"
        assert oss2.Service(oss2.AuthV4(KEY_ID, SECRET), url, region="eu-west-1").list_buckets()
        with pytest.raises(oss2.exceptions.OssError) as raised:
            oss2.Service(oss2.AuthV4(KEY_ID, SECRET), url, region="cn-hangzhou").list_buckets()
    assert raised.value.ec == "0002-00000226"
