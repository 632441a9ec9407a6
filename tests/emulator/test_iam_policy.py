"""Session policies: the grammar STS checks, and what ``evaluate`` allows (never more than the
statements say)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ossemu.emulator.iam.policy import PolicyError, evaluate, parse

ARN = "acs:oss:cn-hangzhou:1000000000000001:"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"Version": "2", "Statement": []}',
        '{"Version": "1", "Statement": []}',
        '{"Version": "1", "Statements": [{}]}',
        policy({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
        policy({"Effect": "Allow", "Resource": "*"}),
        policy({"Effect": "Allow", "Action": [], "Resource": "*"}),
        policy({"Effect": "Allow", "Action": "*", "Resource": [1]}),
        policy(allow("*", "*", Condition={"StringSounds": {"oss:Prefix": "a"}})),
        policy(allow("*", "*", Condition={"StringLike": {"oss:Prefix": {"a": 1}}})),
        policy(allow("*", "*", Principal="*")),
    ],
)
def test_documents_that_fail_the_grammar_check(text):
    with pytest.raises(PolicyError):
        parse(text)


def test_wildcards_in_actions_and_resources():
    p = parse(policy(allow(["oss:Get*", "oss:PutObject"], "acs:oss:*:*:b/u-?/*")))
    assert evaluate(p, "oss:GetObject", ARN + "b/u-1/x/y") == "allow"
    assert evaluate(p, "OSS:putobject", ARN + "b/u-2/z") == "allow"  # actions ignore case
    assert evaluate(p, "oss:PutObject", ARN + "b/u-22/z") == "implicit-deny"
    assert evaluate(p, "oss:PutObject", ARN + "B/u-2/z") == "implicit-deny"  # resources do not
    assert evaluate(p, "oss:DeleteObject", ARN + "b/u-1/x") == "implicit-deny"


def test_explicit_deny_wins_over_any_allow():
    p = parse(
        policy(
            allow("oss:*", "acs:oss:*:*:b/*"),
            {"Effect": "Deny", "Action": "oss:DeleteObject", "Resource": "acs:oss:*:*:b/keep/*"},
        )
    )
    assert evaluate(p, "oss:DeleteObject", ARN + "b/tmp/1") == "allow"
    assert evaluate(p, "oss:DeleteObject", ARN + "b/keep/1") == "explicit-deny"


def test_listing_is_allowed_only_under_the_prefix_condition():
    p = parse(
        policy(
            allow(
                "oss:ListObjects",
                "acs:oss:*:*:b",
                Condition={"StringLike": {"oss:Prefix": ["user-42/*"]}},
            )
        )
    )
    assert evaluate(p, "oss:ListObjects", ARN + "b", {"oss:Prefix": "user-42/"}) == "allow"
    assert evaluate(p, "oss:ListObjects", ARN + "b", {"oss:Prefix": "user-42/a"}) == "allow"
    assert evaluate(p, "oss:ListObjects", ARN + "b", {"oss:Prefix": ""}) == "implicit-deny"
    assert evaluate(p, "oss:ListObjects", ARN + "b", {"oss:Prefix": "user-4"}) == "implicit-deny"
    assert evaluate(p, "oss:ListObjects", ARN + "b", {}) == "implicit-deny"  # key absent


@pytest.mark.parametrize(
    ("condition", "context", "decision"),
    [
        ({"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}, {"acs:SourceIp": "127.0.0.1"}, "allow"),
        (
            {"IpAddress": {"acs:SourceIp": ["10.0.0.1"]}},
            {"acs:SourceIp": "127.0.0.1"},
            "implicit-deny",
        ),
        ({"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}, {"acs:SourceIp": "127.0.0.1"}, "allow"),
        (
            {"Bool": {"acs:SecureTransport": True}},
            {"acs:SecureTransport": "false"},
            "implicit-deny",
        ),
        ({"Bool": {"acs:SecureTransport": "false"}}, {"acs:SecureTransport": "false"}, "allow"),
        ({"StringEquals": {"oss:Delimiter": "/"}}, {"oss:Delimiter": "/"}, "allow"),
        ({"StringNotEquals": {"oss:Delimiter": "/"}}, {"oss:Delimiter": "/"}, "implicit-deny"),
        ({"StringEqualsIgnoreCase": {"acs:UserAgent": "X"}}, {"acs:UserAgent": "x"}, "allow"),
        ({"NumericLessThan": {"oss:MaxKeys": "10"}}, {"oss:MaxKeys": "9"}, "allow"),
        (
            {"DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"acs:CurrentTime": "2026-12-07T00:00:00Z"},
            "allow",
        ),
        (
            {"DateGreaterThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}},
            {"acs:CurrentTime": "2026-12-07T00:00:00Z"},
            "implicit-deny",
        ),
    ],
)
def test_condition_operators(condition, context, decision):
    p = parse(policy(allow("*", "*", Condition=condition)))
    assert evaluate(p, "oss:GetObject", ARN + "b/k", context) == decision


ACTIONS = ["oss:PutObject", "oss:GetObject", "oss:ListObjects", "oss:DeleteObject", "oss:ListParts"]
PATTERN_ACTIONS = [*ACTIONS, "oss:*", "oss:Get*", "*", "oss:Put?bject", "OSS:getobject"]
names = st.text("ab/", max_size=5)
patterns = st.text("ab/*?", max_size=6)


@st.composite
def statements(draw):
    return {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(PATTERN_ACTIONS), min_size=1, max_size=3)),
        "Resource": ["acs:oss:*:*:" + p for p in draw(st.lists(patterns, min_size=1, max_size=3))],
    }


@settings(max_examples=300, deadline=None)
@given(
    st.lists(statements(), min_size=1, max_size=4),
    st.sampled_from(ACTIONS),
    names,
    names,
)
def test_allowed_is_exactly_what_the_statements_say(raw, action, bucket, key):
    resource = f"{ARN}{bucket}/{key}"

    def matching(effect: str) -> bool:
        return any(
            s["Effect"] == effect
            and any(fnmatchcase(action.lower(), a.lower()) for a in s["Action"])
            and any(fnmatchcase(resource, r) for r in s["Resource"])
            for s in raw
        )

    decision = evaluate(parse(policy(*raw)), action, resource)
    assert (decision == "allow") == (matching("Allow") and not matching("Deny"))
    assert (decision == "explicit-deny") == matching("Deny")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
documents = st.fixed_dictionaries(
    {"Version": st.sampled_from(["1", 1, "2"]), "Statement": json_values}
) | st.dictionaries(
    st.sampled_from(["Version", "Statement", "Effect", "Action", "Resource", "Condition"]),
    json_values,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from(ACTIONS), names)
def test_any_document_either_fails_the_grammar_or_evaluates(doc, action, key):
    try:
        parsed = parse(json.dumps(doc))
    except PolicyError:
        return
    assert evaluate(parsed, action, ARN + key, {"oss:prefix": key}) in (
        "allow",
        "explicit-deny",
        "implicit-deny",
    )
