"""Moving the emulator's clock: expiry tested without waiting, shared by every worker."""

from __future__ import annotations

import email.utils
import time

import oss2
import pytest
import requests

from ossemu.client import Client

from .test_serve_process import start, stop


def test_advance_clock_expires_a_presigned_url_and_reset_brings_it_back(oss_emulator, oss_bucket):
    oss_bucket.put_object("report.pdf", b"%PDF")
    url = oss_bucket.sign_url("GET", "report.pdf", expires=600)
    assert requests.get(url, timeout=5).content == b"%PDF"

    oss_emulator.advance_clock(601)
    expired = requests.get(url, timeout=5)
    assert expired.status_code == 403
    assert "<Message>Request has expired.</Message>" in expired.text
    # Signed calls still work: their Date is checked for skew against the wall clock.
    assert oss_bucket.get_object("report.pdf") == b"%PDF"

    oss_emulator.reset_clock()
    assert requests.get(url, timeout=5).status_code == 200


def test_objects_written_after_a_move_carry_the_moved_time(oss_emulator, oss_bucket):
    before = oss_emulator.now()
    oss_emulator.advance_clock(30 * 86400)
    oss_bucket.put_object("later.txt", b"x")
    stamp = oss_bucket.head_object("later.txt").last_modified
    assert stamp is not None and stamp.timestamp() - before > 29 * 86400


def test_control_api_moves_shows_and_resets_the_clock(oss_emulator):
    clock = oss_emulator.url_for("/_ossemu/clock")
    assert requests.get(clock, timeout=5).json()["offset"] == 0
    moved = requests.post(clock, json={"advance": 7200}, timeout=5).json()
    assert moved["offset"] == 7200 and moved["now"].endswith("Z")
    assert requests.post(clock, json={"offset": 60}, timeout=5).json()["offset"] == 60
    assert requests.delete(clock, timeout=5).json()["offset"] == 0

    requests.post(clock, json={"advance": 5}, timeout=5)
    assert requests.post(oss_emulator.url_for("/_ossemu/reset"), timeout=5).status_code == 204
    assert requests.get(clock, timeout=5).json()["offset"] == 0


def test_control_api_refuses_a_clock_move_it_cannot_make(oss_emulator):
    clock = oss_emulator.url_for("/_ossemu/clock")
    for body in (
        {},
        {"advance": "1h"},
        {"advance": True},
        {"advance": 1, "offset": 2},
        {"offset": 1e300},
        [3600],
    ):
        answer = requests.post(clock, json=body, timeout=5)
        assert answer.status_code == 400, body
        assert "error" in answer.json()
    assert requests.post(clock, data=b"not json", timeout=5).status_code == 400
    assert requests.get(clock, timeout=5).json()["offset"] == 0


def test_every_worker_of_ossemu_serve_sees_the_moved_clock(tmp_path):
    proc, url = start(tmp_path / "data", "--workers", "2")
    try:
        bucket = oss2.Bucket(oss2.Auth("ossemu-dev-key", "ossemu-dev-secret"), url, "shared")
        bucket.create_bucket()
        bucket.put_object("k", b"v")
        signed = bucket.sign_url("GET", "k", 300)
        requests.post(url + "/_ossemu/clock", json={"advance": 301}, timeout=5)
        # A new connection each time, so both workers answer some of them.
        close = {"Connection": "close"}
        answers = [requests.get(signed, timeout=5, headers=close) for _ in range(40)]
        assert {a.status_code for a in answers} == {403}
        moved = time.time() + 301
        for answer in answers:
            assert (
                abs(email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp() - moved)
                < 30
            )
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_date_header_follows_the_moved_clock_on_every_server(tmp_path, server):
    """Under gunicorn the wall clock's Date used to replace the app's: a day after a move,
    an object's Last-Modified was a day later than the Date of the answer that stored it."""
    proc, url = start(tmp_path / "data", "--server", server)
    try:
        bucket = oss2.Bucket(oss2.Auth("ossemu-dev-key", "ossemu-dev-secret"), url, "later")
        bucket.create_bucket()
        requests.post(url + "/_ossemu/clock", json={"advance": 86400}, timeout=5)
        stored = bucket.put_object("k", b"v")
        answer = bucket.get_object("k")
        moved = time.time() + 86400
        for headers in (
            stored.headers,
            answer.headers,
            requests.get(url + "/_ossemu/health").headers,
        ):
            assert abs(email.utils.parsedate_to_datetime(headers["Date"]).timestamp() - moved) < 30
            assert len(headers["Date"].split(",")) == 2  # one Date, not two joined
        assert (
            answer.last_modified
            <= email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
        )
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err


def test_a_presigned_url_from_our_client_expires_with_the_clock(oss_emulator, oss_bucket):
    client = Client(
        endpoint=oss_emulator.url,
        access_key_id=oss_emulator.access_key_id,
        access_key_secret=oss_emulator.access_key_secret,
    )
    url = client.get_bucket(oss_bucket.name).sign_url("PUT", "upload.bin", expires=60)
    oss_emulator.advance_clock(61)
    answer = requests.put(url, data=b"late", timeout=5)
    assert answer.status_code == 403
    assert not oss_bucket.object_exists("upload.bin")
