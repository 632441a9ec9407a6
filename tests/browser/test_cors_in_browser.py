"""CORS as a browser enforces it: a page on another origin PUTs to a presigned URL with an
``x-oss-meta-*`` header (so Chromium sends a real preflight first) and reads the ETag through
``Access-Control-Expose-Headers``; a page from an origin the rules do not name cannot."""

from __future__ import annotations

import hashlib

import oss2
import pytest

from ossemu.client import Client

# Runs in the page: arguments (url, method, headers, body), answers {status, etag} or {error}.
FETCH = """
const [url, method, headers, body, done] = arguments;
fetch(url, {method, headers, body})
  .then(async (r) => done({status: r.status, etag: r.headers.get("ETag"), text: await r.text()}))
  .catch((e) => done({error: String(e)}));
"""
META = {"x-oss-meta-author": "chromium", "Content-Type": "text/plain"}


def set_rules(oss_emulator, name: str, origin: str, headers: list[str]) -> None:
    auth = oss2.Auth(oss_emulator.access_key_id, oss_emulator.access_key_secret)
    rule = oss2.models.CorsRule(
        allowed_origins=[origin],
        allowed_methods=["PUT", "GET"],
        allowed_headers=headers,
        expose_headers=["ETag", "x-oss-request-id"],
        max_age_seconds=0,  # no preflight cache: each test's preflight really happens
    )
    oss2.Bucket(auth, oss_emulator.url, name).put_bucket_cors(oss2.models.BucketCors([rule]))


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_cross_origin_presigned_put_with_meta_header_reads_the_etag(
    browser, page_server, oss_emulator, oss_bucket, version
):
    set_rules(oss_emulator, oss_bucket.name, page_server.origin, ["x-oss-meta-*", "content-type"])
    client = Client(
        oss_emulator.url,
        oss_emulator.access_key_id,
        oss_emulator.access_key_secret,
        signature_version=version,
    )
    bucket = client.get_bucket(oss_bucket.name)
    url = bucket.sign_url("PUT", "from-page.txt", 60, headers=META)
    browser.get(page_server.origin + "/")
    got = browser.execute_async_script(FETCH, url, "PUT", META, "hello from a page")
    md5 = hashlib.md5(b"hello from a page").hexdigest().upper()
    assert got.get("error") is None, got
    assert (got["status"], got["etag"]) == (200, f'"{md5}"')
    assert oss_bucket.head_object("from-page.txt").metadata == {"author": "chromium"}

    # Without x-oss-meta-* among the allowed headers, the preflight is refused, so the PUT is
    # never sent: proof that the browser asked first.
    set_rules(oss_emulator, oss_bucket.name, page_server.origin, ["content-type"])
    url = bucket.sign_url("PUT", "refused.txt", 60, headers=META)
    refused = browser.execute_async_script(FETCH, url, "PUT", META, "never stored")
    assert "Failed to fetch" in refused.get("error", ""), refused
    assert not oss_bucket.object_exists("refused.txt")


def test_a_page_from_an_origin_the_rules_do_not_name_fails(
    browser, page_server, other_page_server, oss_emulator, oss_bucket
):
    set_rules(oss_emulator, oss_bucket.name, page_server.origin, ["*"])
    oss_bucket.put_object("readable.txt", b"data")
    put_url = oss_bucket.sign_url("PUT", "intruder.txt", 60, headers=META)
    get_url = oss_bucket.sign_url("GET", "readable.txt", 60)

    browser.get(other_page_server.origin + "/")
    put = browser.execute_async_script(FETCH, put_url, "PUT", META, "from elsewhere")
    assert "Failed to fetch" in put.get("error", ""), put
    assert not oss_bucket.object_exists("intruder.txt")
    # A GET needs no preflight: the server answers, but without CORS headers the browser
    # keeps the answer from the page.
    get = browser.execute_async_script(FETCH, get_url, "GET", {}, None)
    assert "Failed to fetch" in get.get("error", ""), get

    browser.get(page_server.origin + "/")  # the same GET from the named origin is readable
    allowed = browser.execute_async_script(FETCH, get_url, "GET", {}, None)
    assert (allowed.get("status"), allowed.get("text")) == (200, "data"), allowed
