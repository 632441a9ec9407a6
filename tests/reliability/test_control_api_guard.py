"""The control API is closed to web pages, foreign Host names and upload callbacks (issue 15).

A cross-site HTML form could wipe the emulator, a DNS-rebinding page could read the journal, and
a callback URL pointing at ``/_ossemu/reset`` wiped the data. Each is tried here against both
servers; local tools (curl, requests, the fixtures, the CLI) keep working.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.reliability.helpers import BUCKET, OBJECT, raw_request
from tests.support import b64json, raw_exchange


def _control(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""):
    sent = {"Host": f"127.0.0.1:{port}", **headers, "Connection": "close"}
    sent["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in sent.items())
    return raw_exchange(port, head.encode() + b"\r\n" + body)


def _data_survived(server) -> bool:
    return server.request("GET", BUCKET, "obj").body == OBJECT


WEB_PAGE_ATTACKS = {
    "cross-site form": {
        "Origin": "http://evil.example",
        "Content-Type": "application/x-www-form-urlencoded",
        "Sec-Fetch-Site": "cross-site",
    },
    "foreign origin": {"Origin": "http://evil.example"},
    "null origin": {"Origin": "null"},
    "origin on another port": {"Origin": "http://127.0.0.1:1"},
    "sec-fetch-site": {"Sec-Fetch-Site": "cross-site"},
    "form content type": {"Content-Type": "multipart/form-data; boundary=x"},
    "text/plain": {"Content-Type": "text/plain"},
    "rebound host": {"Host": "evil.example"},
    "rebound host with port": {"Host": "attacker.example:8090"},
}


@pytest.mark.parametrize("attack", list(WEB_PAGE_ATTACKS))
def test_web_pages_cannot_reset_the_emulator(server, attack):
    response = _control(server.port, "POST", "/_ossemu/reset", WEB_PAGE_ATTACKS[attack], b"a=1")
    assert response.status == 403, response.body
    assert "error" in json.loads(response.body)
    assert _data_survived(server)


@pytest.mark.parametrize("path", ["/_ossemu/callbacks", "/_ossemu/faults"])
def test_a_dns_rebinding_page_cannot_read_the_control_api(server, path):
    response = _control(server.port, "GET", path, {"Host": "rebind.evil.example"})
    assert response.status == 403
    assert b"--allow-host" in response.body


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "LOCALHOST", "localhost.", "[::1]", "192.168.7.7"]
)
def test_local_tools_keep_using_the_control_api(server, host):
    headers = {"Host": f"{host}:{server.port}", "Origin": f"http://{host}:{server.port}"}
    assert _control(server.port, "GET", "/_ossemu/faults", headers).status == 200
    fault = json.dumps({"operation": "GetBucketInfo", "times": 1, "status": 503}).encode()
    added = _control(
        server.port, "POST", "/_ossemu/faults", {"Content-Type": "application/json"}, fault
    )
    assert added.status == 201
    assert _control(server.port, "DELETE", "/_ossemu/faults", {}).status == 204
    assert requests.get(f"http://127.0.0.1:{server.port}/_ossemu/callbacks").status_code == 200


def test_allow_host_admits_another_name(tmp_path):
    from ossemu.emulator.config import EmulatorConfig
    from ossemu.emulator.server import EmulatorServer

    config = EmulatorConfig(data_dir=tmp_path, port=0, allowed_hosts=("dev.box",))
    with EmulatorServer(config) as emulator:
        ok = _control(emulator.port, "GET", "/_ossemu/faults", {"Host": "dev.box"})
        other = _control(emulator.port, "GET", "/_ossemu/faults", {"Host": "other.box"})
    assert (ok.status, other.status) == (200, 403)


# -- callbacks never reach the control API, however the URL is spelt -------------------------

HOSTS = [
    "127.0.0.1",
    "127.1",
    "0x7f.1",
    "0x7f000001",
    "2130706433",
    "0177.0.0.1",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
]
PATHS = [
    "/_ossemu/reset",
    "//_ossemu/reset",
    "/_ossemu//reset",
    "/%5Fossemu/reset",
    "/_ossemu%2Freset",
    "/_ossemu/reset?x=1",
    "/_ossemu/./reset",
    "/a/../_ossemu/reset",
    "/_OSSEMU/reset",
]


def _upload_with_callback(server, key: str, url: str, **fields: str):
    callback = b64json({"callbackUrl": url, "callbackBody": "a=1", **fields})
    return server.request("PUT", BUCKET, key, headers={"x-oss-callback": callback}, body=b"1")


@pytest.mark.parametrize("host", HOSTS)
def test_a_callback_cannot_reset_the_emulator_by_any_host_spelling(server, host):
    response = _upload_with_callback(
        server, "cb-host", f"http://{host}:{server.port}/_ossemu/reset"
    )
    assert response.status in (203, 400), response.body
    assert _data_survived(server)


@pytest.mark.parametrize("path", PATHS)
def test_a_callback_cannot_reset_the_emulator_by_any_path_spelling(server, path):
    response = _upload_with_callback(server, "cb-path", f"http://127.0.0.1:{server.port}{path}")
    assert response.status in (203, 400), response.body
    assert _data_survived(server)


def test_a_callback_cannot_install_a_fault_even_with_a_json_body_and_a_local_host(server):
    body = '{"operation": "GetObject", "times": 5, "status": 500}'
    url = f"http://localhost:{server.port}/_ossemu/faults"
    response = _upload_with_callback(
        server,
        "cb-fault",
        url,
        callbackBody=body,
        callbackBodyType="application/json",
        callbackHost=f"127.0.0.1:{server.port}",
    )
    assert response.status == 203
    assert b"Error status : 403." in response.body
    assert requests.get(f"http://127.0.0.1:{server.port}/_ossemu/faults").json() == []
    assert _data_survived(server)
    assert raw_request(server.port, "GET", BUCKET, "cb-fault").status == 200
