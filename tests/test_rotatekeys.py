"""``manage.py rotatekeys``: rotate with the activation delay, at once, list, re-encrypt."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from oauth_provider import signing_keys
from oauth_provider.models import SigningKey

from .helpers import private_pem

pytestmark = pytest.mark.django_db

ALGORITHMS = ["RS256", "ES256", "EdDSA"]
DELAY = 2 * 24 * 3600  # OIDC_KEY_ACTIVATION_DELAY_SECONDS' default


def rotatekeys(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("rotatekeys", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def pending(now):
    return SigningKey.objects.filter(activates_at__gt=now)


def signing_kids():
    return {algorithm: signing_keys.signing_key(algorithm).kid for algorithm in ALGORITHMS}


def test_default_makes_a_pending_key_per_algorithm_after_the_delay(frozen_clock):
    before = signing_kids()

    out, _err = rotatekeys()

    new = pending(frozen_clock())
    assert sorted(new.values_list("algorithm", flat=True)) == sorted(ALGORITHMS)
    assert {key.activates_at for key in new} == {frozen_clock() + timedelta(seconds=DELAY)}
    for key in new:
        assert key.kid in out
    # Published at once, signing only after the delay.
    assert set(new.values_list("kid", flat=True)) <= {jwk["kid"] for jwk in signing_keys.jwks()["keys"]}
    assert signing_kids() == before
    frozen_clock.advance(seconds=DELAY)
    assert set(signing_kids().values()) == set(new.values_list("kid", flat=True))


def test_algorithm_and_delay_options(frozen_clock):
    rotatekeys("--algorithm", "ES256", "--delay", "60")

    (key,) = pending(frozen_clock())
    assert key.algorithm == "ES256"
    assert key.activates_at == frozen_clock() + timedelta(seconds=60)


def test_delay_option_follows_the_setting(settings, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_KEY_ACTIVATION_DELAY_SECONDS": 600}

    rotatekeys("--algorithm", "RS256")

    assert pending(frozen_clock()).get().activates_at == frozen_clock() + timedelta(seconds=600)


def test_algorithm_not_configured_is_refused(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_ALGORITHMS": ["RS256"]}

    with pytest.raises(CommandError, match="Not in OIDC_SIGNING_ALGORITHMS"):
        rotatekeys("--algorithm", "ES256")


@pytest.mark.parametrize("args", [["--algorithm", "HS256"], ["--algorithm", "none"], ["--delay", "-1"]])
def test_bad_options_are_refused(args):
    with pytest.raises(CommandError):
        rotatekeys(*args)


def test_now_replaces_the_keys_at_once_and_keeps_the_old_ones_published(frozen_clock):
    before = signing_kids()

    _out, err = rotatekeys("--now")

    after = signing_kids()
    assert not set(before.values()) & set(after.values())
    published = {jwk["kid"] for jwk in signing_keys.jwks()["keys"]}
    assert set(before.values()) <= published
    assert "--drop-retired" in err


def test_drop_retired_unpublishes_the_old_keys_with_a_warning(frozen_clock):
    token = signing_keys.sign({"sub": "alice"}, "RS256")
    before = signing_kids()

    _out, err = rotatekeys("--now", "--drop-retired")

    published = {jwk["kid"] for jwk in signing_keys.jwks()["keys"]}
    assert not set(before.values()) & published
    assert "no longer validate" in err
    with pytest.raises(signing_keys.InvalidJWT):
        signing_keys.verify(token)


def test_drop_retired_needs_now():
    with pytest.raises(CommandError, match="--drop-retired needs --now"):
        rotatekeys("--drop-retired")


def test_now_and_delay_are_exclusive():
    with pytest.raises(CommandError):
        rotatekeys("--now", "--delay", "10")


def test_list_shows_kid_algorithm_state_and_times_never_private_parts(frozen_clock):
    rotatekeys("--algorithm", "RS256")

    out, _err = rotatekeys("--list")

    lines = out.splitlines()
    assert lines[0].split()[:3] == ["kid", "algorithm", "state"]
    for key in SigningKey.objects.all():
        (line,) = [line for line in lines if line.startswith(key.kid)]
        assert key.algorithm in line
        assert key.activates_at.isoformat(timespec="seconds") in line
        assert key.private_key not in out
    assert "pending" in out
    assert "active" in out
    assert "active, published until" in out  # the RS256 key being replaced
    assert "PRIVATE KEY" not in out


def test_list_changes_nothing(frozen_clock):
    rows = list(SigningKey.objects.values())

    rotatekeys("--list")

    assert list(SigningKey.objects.values()) == rows


def test_list_with_rotation_options_is_refused():
    with pytest.raises(CommandError, match="take no rotation options"):
        rotatekeys("--list", "--now")


def test_reencrypt_after_a_secret_key_rotation(settings, frozen_clock):
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-secret-key", [old_secret]

    out, _err = rotatekeys("--reencrypt")

    assert f"Re-encrypted {SigningKey.objects.count()} keys" in out
    settings.SECRET_KEY_FALLBACKS = []
    signing_keys._private.clear()
    assert signing_keys.verify(signing_keys.sign({"sub": "alice"}, "ES256"))[1] == {"sub": "alice"}


def test_reencrypt_fails_when_a_signing_key_cannot_be_decrypted(settings):
    settings.SECRET_KEY = "the-new-secret-key"

    with pytest.raises(CommandError, match="rotatekeys --now"):
        rotatekeys("--reencrypt")


def test_reencrypt_passes_over_retired_keys_no_secret_decrypts(settings, frozen_clock):
    rotatekeys("--now")  # the keys made under the old secret retire
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "the-new-secret-key"
    # The new keys, re-encrypted while the old secret was still a fallback.
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    signing_keys.reencrypt_keys()
    SigningKey.objects.filter(retired_at__isnull=False).update(private_key="gAAAAAgarbage")
    settings.SECRET_KEY_FALLBACKS = []

    _out, err = rotatekeys("--reencrypt")

    assert "no configured secret decrypts it" in err


@pytest.fixture
def pem_keys(settings):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_SIGNING_KEYS": [
            {"kid": "managed-rs256", "algorithm": "RS256", "private_key": private_pem("RS256")},
            {"kid": "next-rs256", "algorithm": "RS256", "private_key": private_pem("RS256"), "active": False},
        ],
    }


@pytest.mark.parametrize("args", [[], ["--now"], ["--reencrypt"], ["--algorithm", "RS256"]])
def test_refuses_keys_managed_in_settings(pem_keys, args):
    rows = list(SigningKey.objects.values())

    with pytest.raises(CommandError, match="managed outside Django"):
        rotatekeys(*args)

    assert list(SigningKey.objects.values()) == rows


def test_list_shows_keys_managed_in_settings(pem_keys):
    out, _err = rotatekeys("--list")

    assert "managed-rs256  RS256      active" in out
    assert "next-rs256     RS256      published, not signing" in out
    assert "PRIVATE KEY" not in out
