"""Generating, hashing and comparing credentials (the one place for each)."""

import hashlib
import hmac
import re

import pytest

from oauth_provider import crypto
from oauth_provider.crypto import (
    ACCESS_TOKEN_PREFIX,
    AUTHORIZATION_CODE_PREFIX,
    CLIENT_SECRET_PREFIX,
    REFRESH_TOKEN_PREFIX,
    generate_client_id,
    generate_token,
    hash_secret,
    hash_user_code,
    secrets_match,
)

PREFIXES = [CLIENT_SECRET_PREFIX, AUTHORIZATION_CODE_PREFIX, ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX]
URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_prefixes_are_distinct():
    assert len(set(PREFIXES)) == len(PREFIXES)
    assert set(PREFIXES) == {"opcs_", "opac_", "opat_", "oprt_"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_generated_token_carries_its_prefix(prefix):
    assert generate_token(prefix).startswith(prefix)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_generated_token_has_256_bits_of_urlsafe_randomness(prefix):
    random_part = generate_token(prefix).removeprefix(prefix)
    # 6 bits per URL-safe base64 character: 43 characters hold 256 bits.
    assert len(random_part) >= 43
    assert URLSAFE.fullmatch(random_part)


def test_generated_tokens_are_unique():
    tokens = {generate_token(ACCESS_TOKEN_PREFIX) for _ in range(1000)}
    assert len(tokens) == 1000


def test_generated_token_comes_from_secrets(monkeypatch):
    calls = []

    def token_urlsafe(nbytes):
        calls.append(nbytes)
        return "r" * 43

    monkeypatch.setattr(crypto.secrets, "token_urlsafe", token_urlsafe)
    assert generate_token(ACCESS_TOKEN_PREFIX) == ACCESS_TOKEN_PREFIX + "r" * 43
    assert calls == [32]


def test_client_ids_are_unique_and_urlsafe():
    client_ids = {generate_client_id() for _ in range(1000)}
    assert len(client_ids) == 1000
    assert all(URLSAFE.fullmatch(client_id) for client_id in client_ids)


def test_hash_secret_is_sha256_hex():
    value = generate_token(ACCESS_TOKEN_PREFIX)
    digest = hash_secret(value)
    assert digest == hashlib.sha256(value.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_hash_secret_known_value():
    assert hash_secret("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_hash_secret_does_not_contain_the_value():
    value = generate_token(ACCESS_TOKEN_PREFIX)
    assert value not in hash_secret(value)
    assert ACCESS_TOKEN_PREFIX not in hash_secret(value)


def test_hash_secret_accepts_any_text():
    assert len(hash_secret("caf\u00e9 \U0001f600 \udc80")) == 64


def test_secrets_match_true_for_the_value():
    value = generate_token(CLIENT_SECRET_PREFIX)
    assert secrets_match(value, hash_secret(value)) is True


@pytest.mark.parametrize("attempt", ["", "opcs_", "wrong"])
def test_secrets_match_false_for_another_value(attempt):
    value = generate_token(CLIENT_SECRET_PREFIX)
    assert secrets_match(attempt, hash_secret(value)) is False
    assert secrets_match(value[:-1], hash_secret(value)) is False


def test_secrets_match_false_against_empty_hash():
    assert secrets_match("anything", "") is False


def test_secrets_match_compares_in_constant_time(monkeypatch):
    calls = []
    real_compare_digest = hmac.compare_digest

    def compare_digest(a, b):
        calls.append((a, b))
        return real_compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    value = generate_token(CLIENT_SECRET_PREFIX)
    assert secrets_match(value, hash_secret(value))
    assert calls == [(hash_secret(value), hash_secret(value))]


def test_user_code_hash_is_keyed_with_the_secret_key(settings):
    first = hash_user_code("BCDFGHJK")
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    assert hash_user_code("BCDFGHJK") != first
    assert first != hash_secret("BCDFGHJK")
    assert len(first) == 64
