"""Bucket and key from the Host header or the path: --domain, OSS's own Host names, path style."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol.addressing import resolve


@pytest.mark.parametrize(
    "host, path, expected",
    [
        ("b.localhost:8090", "/k/x", ("b", "k/x")),  # --domain: the Host names the bucket
        ("b.localhost", "/b/x", ("b", "b/x")),  # ...and the whole path is the key, as today
        ("b.oss-cn-hangzhou.aliyuncs.com", "/k/x", ("b", "k/x")),  # ali-oss, IP endpoint
        ("b.oss-cn-hangzhou-internal.aliyuncs.com", "/", ("b", None)),
        ("b.oss-cn-hangzhou.aliyuncs.com", "/b/k", ("b", "k")),  # ali-oss, IP + sldEnable
        ("b.oss-cn-hangzhou.aliyuncs.com", "/b/", ("b", None)),
        ("oss-cn-hangzhou.aliyuncs.com", "/b/k", ("b", "k")),  # no bucket label: path style
        ("127.0.0.1:8090", "/b/k/x", ("b", "k/x")),
        ("example.com", "/", (None, None)),
        ("[::1", "/b/k", ("b", "k")),  # not a host name at all
    ],
)
def test_resolve_reads_the_host_header_then_the_path(host, path, expected):
    assert resolve(host, path, "localhost") == expected
