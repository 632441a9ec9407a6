"""The access log: one line a request that names the OSS operation and never a secret."""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from ossemu.emulator.protocol.http import new_request_id


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="ossemu")

    def lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if hasattr(r, "operation")]

    return lines


def test_access_log_names_the_operation_and_part_number(oss_bucket, access_lines):
    upload_id = oss_bucket.init_multipart_upload("log-parts")
    oss_bucket.upload_part("log-parts", upload_id, 3, b"part three")
    operations = [r.operation for r in access_lines()]
    assert "InitiateMultipartUpload" in operations
    assert "UploadPart partNumber=3" in operations
    line = next(r for r in access_lines() if r.operation == "UploadPart partNumber=3")
    assert line.getMessage().endswith("ms UploadPart partNumber=3")


def test_access_log_of_a_presigned_url_carries_no_signature_or_token(oss_bucket, access_lines):
    oss_bucket.put_object("log-presigned", b"data")
    url = oss_bucket.sign_url("GET", "log-presigned", params={"security-token": "TOKEN-9f3c"})
    requests.get(url, timeout=10)
    secrets = [v for k, v in parse_qsl(urlsplit(url).query) if "signature" in k.lower()]
    secrets += ["TOKEN-9f3c"]
    assert secrets[0]
    records = access_lines()
    assert records, "no access line was logged"
    for record in records:
        text = record.getMessage() + repr(vars(record))
        assert not [s for s in secrets if s in text], text


@pytest.mark.parametrize(
    "werkzeug_status, oss_status",
    [
        ("403 FORBIDDEN", "403 Forbidden"),
        ("203 NON AUTHORITATIVE INFORMATION", "203 Non-Authoritative Information"),
        ("599 UNKNOWN", "599 UNKNOWN"),  # no registered phrase: left as the app gave it
    ],
)
def test_status_line_takes_the_registered_reason_phrase(werkzeug_status, oss_status):
    from ossemu.emulator.access_log import status_line

    assert status_line(werkzeug_status) == oss_status


def test_a_key_with_cr_lf_cannot_forge_an_access_line(oss_emulator, access_lines):
    # Unsigned, so refused: only the logged line matters here.
    requests.get(oss_emulator.url + "/logbkt/a%0D%0AGET%20/forged%20200", timeout=10)
    messages = [r.getMessage() for r in access_lines()]
    assert any("a\\x0d\\x0aGET /forged 200" in m for m in messages), messages
    assert not any("\n" in m or "\r" in m for m in messages)


def test_request_ids_differ_between_forked_workers():
    """Ids come from ``random``, which every forked gunicorn worker reseeds: two workers
    forked from one master never hand out the same sequence."""
    ids = []
    for _ in range(2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child writes its first ids and leaves
            os.write(write, "".join(new_request_id() for _ in range(4)).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        ids.append(os.read(read, 200).decode())
        os.close(read)
    assert len(ids[0]) == len(ids[1]) == 96 and ids[0] != ids[1]
    assert re.fullmatch("[0-9A-F]{24}", new_request_id())
