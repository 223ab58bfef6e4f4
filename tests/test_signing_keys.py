"""signing_keys: rotation without a gap, public-only publication, keys that
cannot be decrypted, re-encryption, and PEM keys from settings (OIDC_SIGNING_KEYS)."""

import warnings
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from oauth_provider import signing_keys
from oauth_provider.crypto import encrypted_with_current_secret
from oauth_provider.models import SigningKey
from oauth_provider.signing_keys import KeyUnavailable

from .helpers import private_pem

pytestmark = pytest.mark.django_db

ALGORITHMS = ["RS256", "ES256", "EdDSA"]
CLAIMS = {"iss": "https://auth.example.com", "sub": "alice", "aud": "client"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def rp_decode(token: str, key_set: dict):
    """Validate ``token`` as a relying party would: with the published JWK Set only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc's EdDSA deprecation notice
        return jwt.decode(token, KeySet.import_key_set(key_set), algorithms=ALGORITHMS)


def signing_kid(algorithm: str = "RS256") -> str:
    return signing_keys.signing_key(algorithm).kid


@pytest.fixture
def pem_keys(settings):
    """OIDC_SIGNING_KEYS with one active key per algorithm and one published, not signing."""
    entries = [
        {"kid": f"managed-{algorithm}", "algorithm": algorithm, "private_key": private_pem(algorithm)}
        for algorithm in ALGORITHMS
    ]
    next_key = private_pem("RS256", rsa_size=3072)
    entries.append({"kid": "next-rs256", "algorithm": "RS256", "private_key": next_key, "active": False})
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_KEYS": entries}
    return entries


# -- rotation ---------------------------------------------------------------------------------


def test_rotating_again_before_activation_leaves_no_gap(frozen_clock):
    """The key signing now keeps signing until the newest pending key takes over,
    not only until the pending key it replaced would have."""
    old = signing_kid()
    rows = SigningKey.objects.filter(algorithm="RS256").count()
    signing_keys.rotate(["RS256"], delay=timedelta(hours=10))
    frozen_clock.advance(hours=5)
    (newest,) = signing_keys.rotate(["RS256"], delay=timedelta(hours=10))

    frozen_clock.advance(hours=6)  # past the first (replaced) pending key's activation
    assert signing_kid() == old
    frozen_clock.advance(hours=4)
    assert signing_kid() == newest.kid
    # No key was made on the spot for a gap: only the newest was added (the first pending one is gone).
    assert SigningKey.objects.filter(algorithm="RS256").count() == rows + 1


def test_rotate_with_no_delay_replaces_the_key_at_once(frozen_clock):
    old = signing_kid()

    (new,) = signing_keys.rotate(["RS256"], delay=timedelta(0))

    assert signing_kid() == new.kid
    retired = SigningKey.objects.get(kid=old)
    assert retired.state == SigningKey.State.RETIRED
    # Still published: tokens it signed stay valid until they expire.
    assert old in {key.kid for key in signing_keys.published_keys()}


def test_drop_retired_unpublishes_retired_keys_only(frozen_clock):
    token = signing_keys.sign(CLAIMS, "ES256")
    old = signing_kid("ES256")
    signing_keys.rotate(["ES256"], delay=timedelta(0))
    pending = signing_keys.rotate(["RS256"], delay=timedelta(days=1))[0]

    assert signing_keys.drop_retired(["ES256"]) == 1

    published = {key.kid for key in signing_keys.published_keys()}
    assert old not in published
    assert pending.kid in published  # a pending key is not retired
    with pytest.raises(signing_keys.InvalidJWT):
        signing_keys.verify(token)


# -- what is published ------------------------------------------------------------------------


def test_published_keys_are_public(frozen_clock):
    signing_keys.rotate(delay=timedelta(days=1))  # pending keys, and the active ones

    keys = signing_keys.published_keys()

    assert {key.algorithm for key in keys} == set(ALGORITHMS)
    assert all(not key.jose_key.is_private for key in keys)
    for jwk in signing_keys.jwks()["keys"]:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert {"kid", "alg", "use", "kty"} <= set(jwk)


def test_a_token_validates_through_a_rotation_with_the_key_set_cached_before_it(frozen_clock):
    cached = signing_keys.jwks()
    before = signing_keys.sign(CLAIMS, "RS256")
    signing_keys.rotate(["RS256"])
    # A cache that obeys the JWKS max-age (half the delay) has fetched again by the time the new key signs.
    frozen_clock.advance(days=1)
    refreshed = signing_keys.jwks()
    frozen_clock.advance(days=1)
    after = signing_keys.sign(CLAIMS, "RS256")

    assert rp_decode(before, cached).claims["sub"] == "alice"
    assert rp_decode(before, refreshed).claims["sub"] == "alice"
    assert rp_decode(after, refreshed).claims["sub"] == "alice"


# -- keys whose private part cannot be decrypted -----------------------------------------------


def test_undecryptable_key_fails_signing_with_a_clear_error(settings, frozen_clock):
    (key,) = signing_keys.rotate(["ES256"], delay=timedelta(0))
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"

    with pytest.raises(KeyUnavailable) as raised:
        signing_keys.sign(CLAIMS, "ES256")

    message = str(raised.value)
    assert key.kid in message
    assert "SECRET_KEY_FALLBACKS" in message
    assert "rotatekeys --now" in message


def test_undecryptable_keys_are_still_published_and_verify(settings, frozen_clock):
    token = signing_keys.sign(CLAIMS, "RS256")
    signing_keys._private.clear()  # a new process: nothing decrypted yet
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"

    header, claims = signing_keys.verify(token)

    assert claims["sub"] == "alice"
    assert header["kid"] in {jwk["kid"] for jwk in signing_keys.jwks()["keys"]}


def test_readability_follows_the_configured_secrets(settings, frozen_clock):
    (key,) = signing_keys.rotate(["EdDSA"], delay=timedelta(0))
    old_secret = settings.SECRET_KEY
    assert signing_keys.readability(key) == signing_keys.READABLE

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-secret-key", [old_secret]
    assert signing_keys.readability(key) == signing_keys.READABLE_WITH_FALLBACK

    settings.SECRET_KEY_FALLBACKS = []
    assert signing_keys.readability(key) == signing_keys.UNREADABLE


def test_reencrypt_keys_moves_every_key_to_the_current_secret(settings, frozen_clock):
    signing_keys.rotate(delay=timedelta(days=1))
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-secret-key", [old_secret]

    count, unreadable = signing_keys.reencrypt_keys()

    assert count == SigningKey.objects.count()
    assert unreadable == []
    settings.SECRET_KEY_FALLBACKS = []  # the old secret can go now
    assert all(encrypted_with_current_secret(key.private_key) for key in SigningKey.objects.all())
    signing_keys._private.clear()
    assert signing_keys.verify(signing_keys.sign(CLAIMS, "RS256"))[1]["sub"] == "alice"


def test_reencrypt_keys_reports_keys_no_secret_decrypts(settings, frozen_clock):
    (key,) = signing_keys.rotate(["ES256"], delay=timedelta(0))
    settings.SECRET_KEY = "a-new-secret-key-with-no-fallback"

    _count, unreadable = signing_keys.reencrypt_keys()

    assert key.kid in {row.kid for row in unreadable}
    assert SigningKey.objects.get(kid=key.kid).private_key == key.private_key  # left as it was


def test_dedicated_encryption_secret_has_its_own_fallbacks(settings, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_KEY_ENCRYPTION_SECRET": "first-secret"}
    (key,) = signing_keys.rotate(["ES256"], delay=timedelta(0))
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_KEY_ENCRYPTION_SECRET": "second-secret",
        "OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS": ["first-secret"],
    }
    assert signing_keys.readability(key) == signing_keys.READABLE_WITH_FALLBACK

    signing_keys.reencrypt_keys()

    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_KEY_ENCRYPTION_SECRET_FALLBACKS": []}
    assert signing_keys.readability(SigningKey.objects.get(kid=key.kid)) == signing_keys.READABLE


# -- keys managed outside Django (OIDC_SIGNING_KEYS) ------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pem_keys_from_settings_sign_verify_and_publish(pem_keys, algorithm):
    rows = SigningKey.objects.count()

    token = signing_keys.sign(CLAIMS, algorithm)

    header, claims = signing_keys.verify(token)
    assert header["kid"] == f"managed-{algorithm}"
    assert header["alg"] == algorithm
    assert claims == CLAIMS
    assert rp_decode(token, signing_keys.jwks()).claims == CLAIMS
    assert SigningKey.objects.count() == rows  # the database keys are left alone


def test_pem_keys_are_published_public_only(pem_keys):
    published = signing_keys.jwks()["keys"]

    assert [jwk["kid"] for jwk in published] == [entry["kid"] for entry in pem_keys]
    for jwk in published:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
    # None of the database keys is published meanwhile.
    assert not {jwk["kid"] for jwk in published} & set(SigningKey.objects.values_list("kid", flat=True))


def test_inactive_pem_key_is_published_but_does_not_sign(pem_keys):
    assert signing_keys.signing_key("RS256").kid == "managed-RS256"
    assert "next-rs256" in {key.kid for key in signing_keys.published_keys()}


def test_pem_keys_without_an_active_key_for_the_algorithm(settings, pem_keys):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_KEYS": pem_keys[:1]}

    with pytest.raises(KeyUnavailable, match="no active ES256 key"):
        signing_keys.sign(CLAIMS, "ES256")


def test_ensure_keys_leaves_the_database_alone_with_pem_keys(pem_keys):
    rows = SigningKey.objects.count()

    assert signing_keys.ensure_keys() == []
    assert SigningKey.objects.count() == rows


# -- which key signs, kept per process -----------------------------------------------------------


def test_the_signing_key_is_read_once_then_kept(django_assert_num_queries):
    signing_keys.sign({"a": 1}, "RS256")  # reads it (and decrypts it once)

    with django_assert_num_queries(0):
        signing_keys.sign({"a": 2}, "RS256")


def test_a_pending_key_signs_from_its_moment_without_a_new_read_before(frozen_clock):
    old = signing_keys.signing_key("RS256").kid
    (new,) = signing_keys.rotate(["RS256"], delay=timedelta(hours=1))
    assert signing_keys.signing_key("RS256").kid == old

    frozen_clock.advance(hours=1)

    header, _claims = signing_keys.verify(signing_keys.sign({"a": 1}, "RS256"))
    assert header["kid"] == new.kid


def test_another_processs_rotation_is_seen_within_the_cache_time(frozen_clock):
    old = signing_keys.signing_key("RS256").kid
    # As rotatekeys --now in another process would: rows changed, this process not told.
    SigningKey.objects.filter(kid=old).update(retired_at=frozen_clock.current + timedelta(hours=1))
    new = signing_keys.create_key("RS256", activates_at=frozen_clock.current)

    assert signing_keys.signing_key("RS256").kid == old
    frozen_clock.advance(seconds=signing_keys.SIGNING_KEY_CACHE_SECONDS)
    assert signing_keys.signing_key("RS256").kid == new.kid
