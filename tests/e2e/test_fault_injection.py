"""The emulator's fault injector: rules added over HTTP or from Python make requests fail."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ossemu.client import Client, RequestError, RetryPolicy, ServerError
from tests.reliability.helpers import KEY_ID, SECRET, ServeProcess, process_tree


@pytest.fixture
def faults_url(oss_emulator):
    url = oss_emulator.url_for("/_ossemu/faults")
    yield url
    requests.delete(url)


@pytest.fixture
def bucket(oss_emulator, oss_bucket):
    """The test's bucket through a client that never retries, so every fault shows."""
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        max_retries=0,
    ) as client:
        yield client.get_bucket(oss_bucket.name)


def test_control_api_adds_lists_and_clears_rules(faults_url):
    added = requests.post(faults_url, json={"operation": "PutObject", "key": "a", "times": 2})
    assert added.status_code == 201
    rule = added.json()
    assert rule["action"] == "error" and rule["operation"] == "PutObject"
    assert rule["times"] == 2 and rule["hits"] == 0 and rule["status"] == 500
    assert isinstance(rule["id"], int)

    assert requests.get(faults_url).json() == [rule]

    assert requests.delete(faults_url).status_code == 204
    assert requests.get(faults_url).json() == []


def test_error_fault_answers_with_its_status_and_oss_code(faults_url, bucket):
    requests.post(
        faults_url,
        json={
            "operation": "PutObject",
            "bucket": bucket.name,
            "status": 503,
            "code": "SlowDown",
            "message": "Please reduce your request rate.",
        },
    )
    with pytest.raises(ServerError) as info:
        bucket.put_object("k", b"data")
    error = info.value
    assert (error.status, error.code) == (503, "SlowDown")
    assert error.message == "Please reduce your request rate."
    assert b"<Code>SlowDown</Code>" in error.body and error.request_id
    assert not bucket.object_exists("k")


def test_times_counts_down_then_the_rule_is_gone(oss_emulator, faults_url, bucket):
    bucket.put_object("k", b"data")
    rule = oss_emulator.add_fault(operation="GetObject", key="k", times=2)

    with pytest.raises(ServerError):
        bucket.get_object("k")
    assert [r["times"] for r in requests.get(faults_url).json()] == [1]
    with pytest.raises(ServerError):
        bucket.get_object("k")

    assert bucket.get_object("k") == b"data"
    assert rule.hits == 2 and requests.get(faults_url).json() == []


def test_rules_match_only_their_operation_bucket_and_key(oss_emulator, bucket):
    bucket.put_object("a", b"A")
    bucket.put_object("b", b"B")
    oss_emulator.add_fault(operation="GetObject", bucket="another-bucket", key="a")
    oss_emulator.add_fault(operation="GetObject", bucket=bucket.name, key="a")

    assert bucket.get_object("b") == b"B"
    assert bucket.head_object("a").size == 1
    bucket.put_object("a", b"A2")
    with pytest.raises(ServerError) as info:
        bucket.get_object("a")
    assert info.value.code == "InternalError"
    assert [r["bucket"] for r in oss_emulator.services.faults.list()] == ["another-bucket"]


def test_rules_match_one_part_number(oss_emulator, bucket):
    upload_id = bucket.init_multipart_upload("k")
    rule = oss_emulator.add_fault(operation="UploadPart", key="k", part_number=2)

    bucket.upload_part("k", upload_id, 1, b"1" * 1000)
    with pytest.raises(ServerError):
        bucket.upload_part("k", upload_id, 2, b"2" * 1000)
    bucket.upload_part("k", upload_id, 3, b"3" * 1000)

    assert rule.hits == 1
    assert [p.number for p in bucket.list_parts("k", upload_id)] == [1, 3]


def test_delay_fault_holds_the_request_which_then_succeeds(oss_emulator, bucket):
    rule = oss_emulator.add_fault(action="delay", operation="PutObject", delay=0.2)
    result = bucket.put_object("k", b"late but fine")
    assert result.status == 200 and rule.hits == 1
    assert bucket.get_object("k") == b"late but fine"


@pytest.mark.parametrize("operation", ["PutObject", "GetObject"])
def test_drop_fault_makes_the_client_see_a_connection_error(oss_emulator, bucket, operation):
    bucket.put_object("k", b"x" * 200_000)
    oss_emulator.add_fault(action="drop", operation=operation, key="k")
    with pytest.raises(RequestError) as info:
        if operation == "PutObject":
            bucket.put_object("k", b"y" * 200_000)
        else:
            bucket.get_object("k")
    assert isinstance(info.value.cause, requests.ConnectionError)
    assert bucket.get_object("k") == b"x" * 200_000


def test_a_retrying_client_rides_out_one_dropped_connection(oss_emulator, oss_bucket):
    oss_bucket.put_object("k", b"data")
    rule = oss_emulator.add_fault(action="drop", operation="GetObject", key="k")
    policy = RetryPolicy(1, base_delay=0.001)
    with Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        max_retries=policy,
    ) as client:
        assert client.get_bucket(oss_bucket.name).get_object("k") == b"data"
    assert rule.hits == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "JSON object"),
        ("[1, 2]", "JSON object"),
        ('{"action": "explode"}', "action must be one of"),
        ('{"times": 0}', "times must be at least 1"),
        ('{"colour": "red"}', "unknown fault fields: colour"),
        ('{"times": "twice"}', ""),
    ],
)
def test_bad_fault_bodies_get_a_400_json_error(faults_url, body, message):
    response = requests.post(faults_url, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert message in response.json()["error"]
    assert requests.get(faults_url).json() == []


# -- several worker processes on one data dir share the rules ------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """``ossemu serve --workers 2``, once both gunicorn workers have loaded the app."""
    server = ServeProcess(tmp_path_factory.mktemp("two-workers") / "data", "--workers", "2")
    try:
        deadline = time.monotonic() + 30
        while len(_workers_serving(server)) < 2:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.05)
        yield server
        assert server.stop() == 0
        assert "Traceback" not in server.log_text()
    finally:
        server.ensure_stopped()


def _workers_serving(server: ServeProcess) -> list[int]:
    """The serve process's children that have the data dir's index open."""
    index = str(server.data_dir / "index.sqlite3")
    serving = []
    for pid in process_tree(server.pid)[1:]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == index for fd in fds):
                serving.append(pid)
        except OSError:
            continue  # a worker starting or ending while we look
    return serving


@pytest.fixture
def shared_bucket(two_workers) -> str:
    name = f"faults-{uuid.uuid4().hex[:12]}"
    with Client(two_workers.url, KEY_ID, SECRET, max_retries=0) as client:
        client.create_bucket(name)
    return name


def put_from_threads(url: str, bucket: str, threads: int = 4, each: int = 10) -> Counter[str]:
    """PUTs from ``threads`` clients, one keep-alive connection each; outcome codes counted."""

    def put_some(n: int) -> list[str]:
        outcomes = []
        with Client(url, KEY_ID, SECRET, max_retries=0) as client:
            target = client.get_bucket(bucket)
            for i in range(each):
                try:
                    target.put_object(f"k-{n}-{i}", b"data")
                    outcomes.append("ok")
                except ServerError as e:
                    outcomes.append(e.code)
        return outcomes

    with ThreadPoolExecutor(threads) as pool:
        return Counter(code for outcomes in pool.map(put_some, range(threads)) for code in outcomes)


def rules_seen_by_fresh_connections(url: str, connections: int = 20) -> list[list[dict]]:
    """``GET /_ossemu/faults`` over new connections, which either worker may accept."""
    return [requests.get(url + "/_ossemu/faults").json() for _ in range(connections)]


def test_a_rule_fires_exactly_times_across_gunicorn_workers(two_workers, shared_bucket):
    rule = requests.post(
        two_workers.url + "/_ossemu/faults",
        json={
            "operation": "PutObject",
            "bucket": shared_bucket,
            "times": 6,
            "status": 503,
            "code": "InjectedFault",
        },
    ).json()
    assert rules_seen_by_fresh_connections(two_workers.url) == [[rule]] * 20

    outcomes = put_from_threads(two_workers.url, shared_bucket)

    assert outcomes == {"ok": 34, "InjectedFault": 6}
    assert rules_seen_by_fresh_connections(two_workers.url) == [[]] * 20


def test_rules_cleared_through_one_worker_are_gone_from_all(two_workers, shared_bucket):
    faults = two_workers.url + "/_ossemu/faults"
    requests.post(faults, json={"operation": "PutObject", "bucket": shared_bucket, "times": 999})
    requests.post(faults, json={"bucket": shared_bucket, "times": 999})
    assert all(len(rules) == 2 for rules in rules_seen_by_fresh_connections(two_workers.url))

    assert requests.delete(faults).status_code == 204

    assert put_from_threads(two_workers.url, shared_bucket) == {"ok": 40}
    assert rules_seen_by_fresh_connections(two_workers.url) == [[]] * 20
