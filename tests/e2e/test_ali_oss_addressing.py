"""ali-oss (Node) against the emulator in each addressing mode it has: an IP endpoint (bucket in a
``Host: <bucket>.oss-<region>.aliyuncs.com`` header, not in the path), IP + ``sldEnable`` (that
Host *and* ``/bucket/key``), ``localhost`` + ``sldEnable`` (plain path style), V1 and V4."""

from __future__ import annotations

import json
import subprocess

import pytest

from ossemu.client.auth import Credentials, Signer
from tests.support import raw_exchange

SCRIPT = """
const OSS = require('ali-oss');
const options = JSON.parse(process.env.ALI_OSS_OPTIONS);
const client = new OSS(options);
(async () => {
  await client.put('dir/plain.txt', Buffer.from('hello from ali-oss'));
  const got = await client.get('dir/plain.txt');
  const cb = await client.put('dir/cb.txt', Buffer.from('x'), { callback: {
    url: process.env.CALLBACK_URL, body: 'bucket=${bucket}&object=${object}' } });
  const listed = await client.list({ prefix: 'dir/' });
  console.log(JSON.stringify({
    got: got.content.toString(), callback: cb.data, listed: listed.objects.map((o) => o.name),
  }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.parametrize(
    "endpoint, extra",
    [
        ("127.0.0.1", {}),  # Host: <bucket>.oss-cn-hangzhou.aliyuncs.com, PUT /dir/plain.txt
        ("127.0.0.1", {"authorizationV4": True}),
        ("127.0.0.1", {"region": "oss-cn-shanghai", "internal": True}),  # ...-internal.aliyuncs
        ("127.0.0.1", {"sldEnable": True}),  # that Host and PUT /<bucket>/dir/plain.txt
        ("localhost", {"sldEnable": True}),  # Host: localhost:port, PUT /<bucket>/dir/plain.txt
        ("localhost", {"sldEnable": True, "authorizationV4": True}),
    ],
    ids=["ip", "ip-v4", "ip-internal", "ip-sld", "localhost-sld", "localhost-sld-v4"],
)
def test_ali_oss_puts_gets_lists_and_calls_back(
    oss_emulator, oss_bucket, callback_receiver, ali_oss, endpoint, extra
):
    node, node_env = ali_oss
    options = {
        "accessKeyId": oss_emulator.access_key_id,
        "accessKeySecret": oss_emulator.access_key_secret,
        "bucket": oss_bucket.name,
        "endpoint": oss_emulator.url.replace("127.0.0.1", endpoint),
        **extra,
    }
    env = {
        **node_env,
        "ALI_OSS_OPTIONS": json.dumps(options),
        "CALLBACK_URL": callback_receiver.url,
    }
    result = subprocess.run(
        [node, "-e", SCRIPT], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "got": "hello from ali-oss",
        "callback": {"Status": "OK"},
        "listed": ["dir/cb.txt", "dir/plain.txt"],
    }
    assert oss_bucket.get_object("dir/plain.txt") == b"hello from ali-oss"
    (callback,) = callback_receiver.log
    assert callback.form == {"bucket": oss_bucket.name, "object": "dir/cb.txt"}


def signed_put(oss_emulator, version: str, host: str, target: str, bucket: str, key: str):
    """A raw signed ``PUT`` whose bucket and key the server must find from ``host`` and ``target``
    (the signature covers ``/bucket/key`` whatever the addressing)."""
    credentials = Credentials(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    headers = {"Content-Length": "4"}
    Signer(credentials, version, "cn-hangzhou").sign_headers("PUT", headers, bucket, key, [])
    head = f"PUT {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return raw_exchange(oss_emulator.port, head.encode() + b"data")


@pytest.mark.parametrize("version", ["v1", "v4"])
@pytest.mark.parametrize(
    "host",
    [
        "{bucket}.oss-cn-hangzhou.aliyuncs.com",
        "{bucket}.oss-cn-hangzhou-internal.aliyuncs.com",
        "{bucket}.oss-accelerate.aliyuncs.com",
        "{bucket}.OSS-US-WEST-1.aliyuncs.com:80",
    ],
)
def test_aliyuncs_host_names_are_virtual_hosted(oss_emulator, oss_bucket, version, host):
    response = signed_put(
        oss_emulator,
        version,
        host.format(bucket=oss_bucket.name),
        "/a/b.txt",
        oss_bucket.name,
        "a/b.txt",
    )
    assert response.status == 200, response.body
    assert oss_bucket.get_object("a/b.txt") == b"data"


def test_path_style_under_an_aliyuncs_host_of_the_same_bucket_is_what_sld_enable_sends(
    oss_emulator, oss_bucket
):
    name = oss_bucket.name
    host = f"{name}.oss-cn-hangzhou.aliyuncs.com"
    response = signed_put(oss_emulator, "v1", host, f"/{name}/k.txt", name, "k.txt")
    assert response.status == 200, response.body
    assert [o.key for o in oss_bucket.list_objects()] == ["k.txt"]


@pytest.mark.parametrize("host", ["example.com", "oss-cn-hangzhou.aliyuncs.com", "127.0.0.1"])
def test_other_host_names_leave_addressing_path_style(oss_emulator, oss_bucket, host):
    name = oss_bucket.name
    response = signed_put(oss_emulator, "v1", host, f"/{name}/k.txt", name, "k.txt")
    assert response.status == 200, response.body
    assert oss_bucket.get_object("k.txt") == b"data"
