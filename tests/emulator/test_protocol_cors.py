"""CORS rules as pure values: parsing, the first matching rule, the headers each answer gets."""

from __future__ import annotations

import pytest

from ossemu.emulator.protocol import cors
from ossemu.emulator.protocol.errors import OssError

DOC = b"""<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>x-oss-meta-author</AllowedHeader>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>X-OSS-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>5</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>"""


@pytest.fixture
def config() -> cors.CorsConfig:
    return cors.parse_cors(DOC)


def test_rules_round_trip_through_xml_and_the_stored_form(config):
    assert cors.parse_cors(cors.to_xml(config)) == config
    assert cors.loads(cors.dumps(config)) == config
    assert config.rules[1].headers == ("x-oss-*",)  # OSS keeps AllowedHeader lower-cased
    assert b"ResponseVary" not in cors.to_xml(config)  # left out when it was not given


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("*", "http://anything", True),
        ("http://localhost:*", "http://localhost:5173", True),
        ("http://localhost:*", "http://localhost.evil.com", False),
        ("https://*.example.com", "https://a.b.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("http://a.com", "http://a.com:80", False),
    ],
)
def test_origin_globs_have_one_star_matching_any_run(pattern, value, matches):
    assert cors.glob_match(pattern, value) is matches


def test_the_first_rule_matching_origin_method_and_every_header_wins(config):
    first, second = config.rules
    assert cors.match(config, "https://a.example.com", "GET", ["x-oss-meta-author"]) is first
    # the first rule does not allow this header, so the second (any origin) answers
    assert cors.match(config, "https://a.example.com", "GET", ["x-oss-meta-author-1"]) is second
    assert cors.match(config, "http://x", "PUT", ["x-oss-meta-a", "content-type"]) is None
    assert cors.match(config, "http://x", "DELETE") is None


def test_preflight_headers_and_refusal(config):
    headers = cors.preflight(config, "http://x", "PUT", "X-OSS-Meta-A, x-oss-date")
    assert headers == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "PUT, GET",
        "Access-Control-Allow-Headers": "x-oss-meta-a, x-oss-date",
        "Access-Control-Expose-Headers": "ETag",
        "Access-Control-Max-Age": "5",
    }
    for args in [(config, "http://x", "DELETE", None), (None, "http://x", "GET", None)]:
        with pytest.raises(OssError) as refused:
            cors.preflight(*args)
        assert (refused.value.status, refused.value.code) == (403, "AccessForbidden")
        assert refused.value.message == cors.FORBIDDEN


def test_actual_responses_echo_a_pattern_matched_origin(config):
    assert cors.actual(config, "https://a.example.com", "GET") == {
        "Access-Control-Allow-Origin": "https://a.example.com",
        "Access-Control-Allow-Methods": "GET",
    }
    assert cors.actual(config, None, "GET") == {}
    assert cors.actual(None, "http://x", "GET") == {}


@pytest.mark.parametrize(
    ("body", "code", "ec"),
    [
        (b"<CORSConfiguration/>", "MalformedXML", "0034-00000002"),
        (b"<NotCors/>", "MalformedXML", "0016-00000601"),
        (
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>TRACE</AllowedMethod></CORSRule></CORSConfiguration>",
            "InvalidArgument",
            "0034-00000011",
        ),
        (
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod><ExposeHeader>x&lt;y</ExposeHeader>"
            b"</CORSRule></CORSConfiguration>",
            "InvalidArgument",
            "0034-00000013",
        ),
        (
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds>"
            b"</CORSRule></CORSConfiguration>",
            "InvalidArgument",
            "0017-00000001",
        ),
        (
            b"<CORSConfiguration>" + b" " * cors.MAX_BODY + b"</CORSConfiguration>",
            "InvalidArgument",
            "0017-00000001",
        ),
    ],
    ids=["no-rule", "wrong-root", "bad-method", "bad-expose", "bad-max-age", "too-big"],
)
def test_put_bucket_cors_bodies_oss_refuses(body, code, ec):
    with pytest.raises(OssError) as refused:
        cors.parse_cors(body)
    assert (refused.value.status, refused.value.code, refused.value.ec) == (400, code, ec)
