"""Retries: replay what is safe to replay, never what could fire a callback twice."""

from __future__ import annotations

import io
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from ossemu.client import Callback, RequestError, RetryPolicy, ServerError
from ossemu.client.retry import never_reached_server

ERROR_500 = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
    b"<Message>We encountered an internal error.</Message><RequestId>R1</RequestId></Error>"
)
CALLBACK = Callback(url="http://127.0.0.1:9/cb")


def fail_first(server, n: int, status: int = 500):
    """Answer ``status`` to the first ``n`` requests, then 200."""

    def respond(seen):
        if len(server.requests) <= n:
            return server.Reply(status, {"Content-Type": "application/xml"}, ERROR_500)
        return server.Reply(200, {"ETag": '"ABC"'})

    return respond


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_put_object_bytes_retried_until_success(scripted_server, status):
    scripted_server.respond = fail_first(scripted_server, 2, status)
    with scripted_server.client() as client:
        result = client.get_bucket("bkt").put_object("k", b"payload")
    assert result.etag == "ABC"
    assert len(scripted_server.requests) == 3
    assert all(r.body == b"payload" for r in scripted_server.requests)


def test_retries_stop_after_max_retries(scripted_server):
    scripted_server.respond = fail_first(scripted_server, 100)
    client = scripted_server.client(max_retries=RetryPolicy(2, base_delay=0.001))
    with client, pytest.raises(ServerError) as info:
        client.get_bucket("bkt").put_object("k", b"payload")
    assert info.value.status == 500 and info.value.code == "InternalError"
    assert len(scripted_server.requests) == 3


def test_seekable_file_is_rewound_before_each_replay(scripted_server):
    scripted_server.respond = fail_first(scripted_server, 2)
    source = io.BytesIO(b"HEADER-skip|the part that counts")
    source.seek(12)
    with scripted_server.client() as client:
        client.get_bucket("bkt").put_object("k", source)
    assert [r.body for r in scripted_server.requests] == [b"the part that counts"] * 3
    assert scripted_server.requests[0].headers["content-length"] == "20"


def test_callback_request_is_not_replayed_after_its_body_was_sent(scripted_server):
    scripted_server.respond = fail_first(scripted_server, 1)
    with scripted_server.client() as client, pytest.raises(ServerError) as info:
        client.get_bucket("bkt").put_object("k", b"payload", callback=CALLBACK)
    assert info.value.status == 500
    assert len(scripted_server.requests) == 1
    assert "x-oss-callback" in scripted_server.requests[0].headers


def test_complete_with_callback_is_not_replayed(scripted_server):
    scripted_server.respond = fail_first(scripted_server, 1)
    with scripted_server.client() as client, pytest.raises(ServerError):
        client.get_bucket("bkt").complete_multipart_upload(
            "k", "UPLOAD", [(1, "ETAG")], callback=CALLBACK
        )
    assert len(scripted_server.requests) == 1


def test_non_seekable_iterator_body_is_not_retried(scripted_server):
    scripted_server.respond = fail_first(scripted_server, 1)
    with scripted_server.client() as client, pytest.raises(ServerError):
        client.get_bucket("bkt").put_object("k", iter([b"a", b"b"]))
    assert len(scripted_server.requests) == 1
    assert scripted_server.requests[0].headers["transfer-encoding"] == "chunked"
    assert scripted_server.requests[0].body == b"ab"


def test_dropped_connection_is_retried_for_replayable_body(scripted_server):
    attempts = []

    def respond(seen):
        attempts.append(seen)
        return (
            scripted_server.Reply(drop=True)
            if len(attempts) < 3
            else scripted_server.Reply(200, {"ETag": '"E"'})
        )

    scripted_server.respond = respond
    with scripted_server.client() as client:
        assert client.get_bucket("bkt").put_object("k", b"x").etag == "E"
    assert len(attempts) == 3


def test_dropped_connection_with_callback_raises_request_error(scripted_server):
    scripted_server.respond = lambda seen: scripted_server.Reply(drop=True)
    with scripted_server.client() as client, pytest.raises(RequestError) as info:
        client.get_bucket("bkt").put_object("k", b"x", callback=CALLBACK)
    assert isinstance(info.value.cause, requests.RequestException)
    assert len(scripted_server.requests) == 1


def test_non_retryable_client_errors_are_raised_at_once(scripted_server):
    body = b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
    scripted_server.respond = lambda seen: scripted_server.Reply(
        403, {"Content-Type": "application/xml"}, body
    )
    with scripted_server.client() as client, pytest.raises(ServerError) as info:
        client.get_bucket("bkt").put_object("k", b"x")
    assert info.value.code == "AccessDenied"
    assert len(scripted_server.requests) == 1


def test_clock_skew_is_corrected_from_the_server_date(scripted_server):
    server_now = datetime.now(timezone.utc) + timedelta(hours=2)
    skewed = (
        b"<Error><Code>RequestTimeTooSkewed</Code>"
        b"<Message>The difference between the request time and the current time is too large."
        b"</Message></Error>"
    )

    def respond(seen):
        if len(scripted_server.requests) == 1:
            return scripted_server.Reply(
                403, {"Date": format_datetime(server_now, usegmt=True)}, skewed
            )
        return scripted_server.Reply(200, {"ETag": '"E"'})

    scripted_server.respond = respond
    with scripted_server.client() as client:
        client.get_bucket("bkt").put_object("k", b"x", callback=CALLBACK)
    retried = scripted_server.requests[1].headers["x-oss-date"]
    signed_at = datetime.strptime(retried, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs((signed_at - server_now).total_seconds()) < 120


def test_connection_refused_counts_as_never_delivered():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as info:
        requests.put(f"http://127.0.0.1:{port}/", data=b"x", timeout=2)
    assert never_reached_server(info.value)


def test_refused_connection_is_retried_even_with_callback():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    from ossemu.client import Client

    client = Client(
        f"http://127.0.0.1:{port}", "ak", "sk", max_retries=RetryPolicy(2, base_delay=0.001)
    )
    client._transport._sleep = sleeps.append
    with client, pytest.raises(RequestError):
        client.get_bucket("bkt").put_object("k", b"x", callback=CALLBACK)
    assert len(sleeps) == 2


def test_backoff_is_full_jitter_and_capped():
    policy = RetryPolicy(5, base_delay=1.0, max_delay=3.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 3.0), (6, 3.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2
