"""Sealed STS sessions: what a token binds, and every way a token is not one of ours."""

from __future__ import annotations

import pytest

from ossemu.emulator.iam.credentials import CredentialError, Credentials
from ossemu.emulator.iam.tokens import PREFIX, SessionClaims, TokenSeal, new_key_pair
from ossemu.emulator.protocol.errors import Forbidden

CLAIMS = SessionClaims(
    "STS.abc", "secret", 2000.0, '{"Version":"1"}', "acs:ram::1:role/r", "s", "main"
)


def credentials(tmp_path, now=1000.0) -> Credentials:
    return Credentials({"main": "main-secret"}, TokenSeal.in_dir(tmp_path), lambda: now)


def test_a_sealed_token_opens_to_the_same_claims_and_hides_the_secret(tmp_path):
    seal = TokenSeal.in_dir(tmp_path)
    token = seal.seal(CLAIMS)
    assert token.startswith(PREFIX) and "secret" not in token
    assert seal.open(token) == CLAIMS


def test_every_process_on_a_data_dir_shares_the_key_and_another_dir_cannot_open(tmp_path):
    token = TokenSeal.in_dir(tmp_path / "a").seal(CLAIMS)
    assert TokenSeal.in_dir(tmp_path / "a").open(token) == CLAIMS
    assert TokenSeal.in_dir(tmp_path / "b").open(token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[: len(PREFIX) + 10],
        lambda t: t[:30] + ("A" if t[30] != "A" else "B") + t[31:],
        lambda t: t.replace(PREFIX, "ossemu2."),
        lambda t: PREFIX + "!!!!",
        lambda t: PREFIX,
        lambda t: "",
        lambda t: t + "x" * 9000,
    ],
    ids=[
        "cut-1",
        "cut-to-prefix",
        "one-char",
        "other-version",
        "not-base64",
        "empty-body",
        "empty",
        "huge",
    ],
)
def test_forged_or_damaged_tokens_do_not_open(tmp_path, mangle):
    seal = TokenSeal.in_dir(tmp_path)
    assert seal.open(mangle(seal.seal(CLAIMS))) is None


def test_new_keys_look_like_sts_keys():
    key_id, secret = new_key_pair()
    assert key_id.startswith("STS.") and len(key_id) > 20 and len(secret) >= 30
    assert new_key_pair()[0] != key_id


@pytest.mark.parametrize(
    ("present", "reason"),
    [
        (lambda c, o: ("nobody", None), "unknown-key"),
        (lambda c, o: ("main", "any-token"), "unexpected-token"),
        (lambda c, o: (c.access_key_id, None), "missing-token"),
        (lambda c, o: (c.access_key_id, "ossemu1.xyz"), "invalid-token"),
        (lambda c, o: (c.access_key_id, o.security_token), "token-mismatch"),
    ],
)
def test_resolve_says_why_a_key_and_token_do_not_match(tmp_path, present, reason):
    creds = credentials(tmp_path)
    mine = creds.issue("main", duration=900, policy=None, role_arn="r", session_name="s")
    other = creds.issue("main", duration=900, policy=None, role_arn="r", session_name="s")
    with pytest.raises(CredentialError) as info:
        creds.resolve(*present(mine, other))
    assert info.value.reason == reason


def test_temporary_credentials_expire_by_the_given_clock(tmp_path):
    now = [1000.0]
    creds = Credentials({"main": "sk"}, TokenSeal.in_dir(tmp_path), lambda: now[0])
    issued = creds.issue("main", duration=900, policy="P", role_arn="arn", session_name="s")
    assert issued.expiration == 1900.0
    credential = creds.lookup(issued.access_key_id, issued.security_token)
    assert (credential.secret, credential.policy, credential.session) == (
        issued.secret,
        "P",
        "arn/s",
    )
    now[0] = 1900.0
    with pytest.raises(Forbidden) as info:
        creds.lookup(issued.access_key_id, issued.security_token)
    assert info.value.code == "SecurityTokenExpired"


def test_a_token_from_a_key_no_longer_configured_is_invalid(tmp_path):
    issued = credentials(tmp_path).issue(
        "main", duration=900, policy=None, role_arn="r", session_name="s"
    )
    rotated = Credentials({"new-main": "x"}, TokenSeal.in_dir(tmp_path), lambda: 1000.0)
    with pytest.raises(Forbidden) as info:
        rotated.lookup(issued.access_key_id, issued.security_token)
    assert info.value.code == "InvalidSecurityToken"


def test_the_post_object_hook_turns_key_and_token_into_a_principal(tmp_path):
    from ossemu.emulator.iam.credentials import principal_for

    creds = credentials(tmp_path)
    issued = creds.issue("main", duration=900, policy="P", role_arn="arn", session_name="s")
    principal, secret = principal_for(creds, issued.access_key_id, issued.security_token)
    assert (principal.access_key_id, principal.policy, secret) == (
        issued.access_key_id,
        "P",
        issued.secret,
    )
    owner, _ = principal_for(creds, "main", "")  # an empty form field is no token
    assert owner.policy is None
    with pytest.raises(Forbidden) as info:
        principal_for(creds, issued.access_key_id, "")
    assert info.value.code == "InvalidAccessKeyId"
