"""PutObject with an invalid callback, at the HTTP level: 400 InvalidArgument, nothing stored.

The callback is checked before anything is stored: no object, no temp file, no request to the
app server.
"""

from __future__ import annotations

from typing import Any

import pytest

from ossemu.client import Callback
from ossemu.emulator.receiver import CallbackReceiver
from tests.e2e.callback_http import error_fields, put
from tests.support import b64, b64json


@pytest.fixture
def tmp_files(oss_emulator):
    """The emulator's temp files now; call it again to see what a request left behind."""
    tmp = oss_emulator.config.data_dir / "tmp"
    before = set(tmp.iterdir())
    return lambda: set(tmp.iterdir()) - before


SIX_URLS = ";".join(["http://127.0.0.1:1"] * 6)
CRLF_HOST = "app.example.com\r\nX-Injected: 1"
# id -> (x-oss-callback: raw text, or changes to a valid config (None drops a field);
#        raw x-oss-callback-var or None; Message; ArgumentName; ArgumentValue or None)
BAD_CALLBACKS: dict[str, tuple[str | dict[str, Any], str | None, str, str, str | None]] = {
    "not-base64": (
        "x123-*&",
        None,
        "The callback is not valid base64: OSS expects the standard alphabet with = padding. "
        "URL-safe base64 ('-', '_') is not accepted.",
        "callback",
        "x123-*&",
    ),
    "not-json": (
        b64("{callbackUrl: nope"),
        None,
        "The callback configuration is not json format.",
        "callback",
        "{callbackUrl: nope",
    ),
    "no-callback-body": (
        {"callbackBody": None},
        None,
        "The callbackBody is missing: it is the template of the body OSS posts to callbackUrl.",
        "callbackBody",
        None,
    ),
    "empty-callback-body": (
        {"callbackBody": ""},
        None,
        "The callbackBody must not be empty.",
        "callbackBody",
        "",
    ),
    "bad-body-type": (
        {"callbackBodyType": "text/plain"},
        None,
        "The callbackBodyType 'text/plain' is not supported: use "
        "application/x-www-form-urlencoded or application/json.",
        "callbackBodyType",
        "text/plain",
    ),
    "six-urls": (
        {"callbackUrl": SIX_URLS},
        None,
        "The callbackUrl has 6 URLs; at most 5 are allowed.",
        "callbackUrl",
        SIX_URLS,
    ),
    "bad-port": (
        {"callbackUrl": "127.0.0.1:test"},
        None,
        "The callbackUrl '127.0.0.1:test' is invalid: the host or port is malformed; "
        "the port must be an integer 1-65535.",
        "callbackUrl",
        "127.0.0.1:test",
    ),
    "sni-not-boolean": (
        {"callbackSNI": "true"},
        None,
        "The callback sni is invalid",
        "callbackSNI",
        '"true"',
    ),
    "callback-var-not-json": (
        {},
        b64("x:a=1"),
        "The callback var configuration is not json format.",
        "callback-var",
        "x:a=1",
    ),
    "upper-case-var": (
        {},
        b64json({"x:MyVar": "1"}),
        "The callback-var key 'x:MyVar' must be lowercase.",
        "callback-var",
        "x:MyVar",
    ),
    "crlf-in-callback-host": (
        {"callbackHost": CRLF_HOST},
        None,
        f"The callbackHost {CRLF_HOST!r} is invalid: it contains a space, control or "
        "non-ASCII character.",
        "callbackHost",
        None,  # an XML parser reads the CR LF back as LF; the Message shows it escaped
    ),
}


def bad_callback_headers(case: str, receiver_url: str) -> dict[str, str]:
    callback, variables, *_ = BAD_CALLBACKS[case]
    if not isinstance(callback, str):
        config = {"callbackUrl": receiver_url, "callbackBody": "bucket=${bucket}", **callback}
        callback = b64json({name: value for name, value in config.items() if value is not None})
    headers = {"x-oss-callback": callback}
    if variables is not None:
        headers["x-oss-callback-var"] = variables
    return headers


def _assert_nothing_stored(bucket, receiver: CallbackReceiver, new_tmp_files: set) -> None:
    assert not bucket.object_exists("never.txt")
    assert new_tmp_files == set()
    assert receiver.log == []


@pytest.mark.parametrize("case", BAD_CALLBACKS)
def test_put_object_with_invalid_callback_is_400_and_stores_nothing(
    oss_emulator, oss_bucket, callback_receiver, tmp_files, case
):
    headers = bad_callback_headers(case, callback_receiver.url)
    *_, message, name, value = BAD_CALLBACKS[case]

    response = put(oss_emulator, oss_bucket.name, "never.txt", b"never stored", headers)

    assert response.status_code == 400, response.text
    fields = error_fields(response)
    assert (fields["Code"], fields["Message"]) == ("InvalidArgument", message)
    assert fields["ArgumentName"] == name
    if value is not None:
        assert fields["ArgumentValue"] == value
    _assert_nothing_stored(oss_bucket, callback_receiver, tmp_files())


def test_put_object_with_callback_in_header_and_query_is_400_and_stores_nothing(
    oss_emulator, oss_bucket, callback_receiver, tmp_files
):
    callback = Callback(url=callback_receiver.url).serialize()

    response = put(
        oss_emulator,
        oss_bucket.name,
        "never.txt",
        b"never stored",
        {"x-oss-callback": callback},
        {"callback": callback},
    )

    assert response.status_code == 400, response.text
    fields = error_fields(response)
    assert (fields["Code"], fields["ArgumentName"]) == ("InvalidArgument", "callback")
    assert fields["Message"] == (
        "The callback is given both as header x-oss-callback and as query parameter callback; "
        "send it in one place only."
    )
    _assert_nothing_stored(oss_bucket, callback_receiver, tmp_files())


# Real OSS names each of these failures with its own EC (help/en/oss/support/0007-0000000N).
ERROR_CENTER_EC = {
    "not-base64": "0007-00000002",
    "bad-port": "0007-00000004",
    "six-urls": "0007-00000005",
    "empty-callback-body": "0007-00000011",
}


@pytest.mark.parametrize(("case", "ec"), ERROR_CENTER_EC.items())
def test_invalid_callback_carries_the_oss_error_center_ec(
    oss_emulator, oss_bucket, callback_receiver, case, ec
):
    headers = bad_callback_headers(case, callback_receiver.url)

    response = put(oss_emulator, oss_bucket.name, "never.txt", b"never stored", headers)

    assert response.status_code == 400
    assert (error_fields(response)["EC"], response.headers["x-oss-ec"]) == (ec, ec)
