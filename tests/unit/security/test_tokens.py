import base64
import datetime as dt
import json

import jwt
import pytest

from kefu.security.tokens import AUDIENCE, ISSUER, issue_customer_token, verify_customer_token

SECRET = "test-secret-test-secret-test-secret-0123"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def future() -> int:
    return int((dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).timestamp())


def test_valid_token_gives_the_user_id():
    assert verify_customer_token(issue_customer_token("u1001", SECRET, 60), SECRET) == "u1001"


def test_expired_token():
    issued = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    token = issue_customer_token("u1001", SECRET, ttl_seconds=3600, now=issued)
    assert verify_customer_token(token, SECRET) is None


def test_wrong_secret():
    token = issue_customer_token("u1001", "another-secret-another-secret-another-0", 60)
    assert verify_customer_token(token, SECRET) is None


def test_unsigned_alg_none_token():
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'u1001', 'exp': future()})}."
    assert verify_customer_token(token, SECRET) is None


def test_other_algorithm_is_refused():
    claims = {"sub": "u1001", "exp": future(), "iss": ISSUER, "aud": AUDIENCE}
    token = jwt.encode(claims, SECRET * 2, algorithm="HS512")
    assert verify_customer_token(token, SECRET * 2) is None


def test_payload_changed_after_signing():
    header, _, signature = issue_customer_token("u1001", SECRET, 60).split(".")
    forged = f"{header}.{b64({'sub': 'u1002', 'exp': future()})}.{signature}"
    assert verify_customer_token(forged, SECRET) is None


@pytest.mark.parametrize(
    "claims",
    [
        {},  # neither sub nor exp
        {"sub": "u1001"},  # never expires: refused
        {"exp": "in the future"},
        {"sub": "", "exp": "in the future"},
        {"sub": " ", "exp": "in the future"},
        {"sub": 1001, "exp": "in the future"},
        {"sub": "u1001", "exp": "tomorrow"},
    ],
)
def test_missing_or_invalid_claims(claims):
    if claims.get("exp") == "in the future":
        claims = {**claims, "exp": future()}
    claims = {"iss": ISSUER, "aud": AUDIENCE, **claims}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verify_customer_token(token, SECRET) is None


@pytest.mark.parametrize(
    "token",
    [None, "", "garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9..", 12345, b"bytes", {"sub": "u1001"}],
)
def test_garbage_never_raises(token):
    assert verify_customer_token(token, SECRET) is None


def test_empty_secret_verifies_nothing():
    assert verify_customer_token(issue_customer_token("u1001", SECRET, 60), "") is None


# Issue 13 (low): a token "valid until 2999" was accepted, and so was one for any issuer or audience.
def test_a_token_expiring_too_far_in_the_future_is_refused():
    far = jwt.encode(
        {"sub": "u1001", "iss": ISSUER, "aud": AUDIENCE, "exp": 32503680000}, SECRET, algorithm="HS256"
    )  # 3000-01-01
    assert verify_customer_token(far, SECRET) is None
    assert verify_customer_token(issue_customer_token("u1001", SECRET, 31 * 86400), SECRET) is None
    assert verify_customer_token(issue_customer_token("u1001", SECRET, 29 * 86400), SECRET) == "u1001"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": ISSUER},  # no audience
        {"aud": AUDIENCE},  # no issuer
        {"iss": "someone-else", "aud": AUDIENCE},
        {"iss": ISSUER, "aud": "another-service"},
        {"iss": ISSUER, "aud": ["another-service"]},
    ],
)
def test_a_token_for_another_issuer_or_audience_is_refused(claims):
    token = jwt.encode({"sub": "u1001", "exp": future(), **claims}, SECRET, algorithm="HS256")
    assert verify_customer_token(token, SECRET) is None


def test_the_configured_issuer_and_audience_are_checked():
    token = issue_customer_token("u1001", SECRET, 60, issuer="shop-login", audience="shop-kefu")
    assert verify_customer_token(token, SECRET) is None
    assert verify_customer_token(token, SECRET, issuer="shop-login", audience="shop-kefu") == "u1001"
