"""JWT access tokens (RFC 9068): the header and claims we sign, and how
``jwt_access_tokens`` validates them (§4), with our own keys and their rotation."""

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from oauth_provider import clock, jwt_access_tokens, signing_keys
from oauth_provider.id_tokens import verify_hint
from oauth_provider.issuance import issue_tokens
from oauth_provider.jwt_access_tokens import InvalidAccessToken, decode, local_claims, looks_like_jwt
from oauth_provider.models import SigningKey
from oauth_provider.signing_keys import InvalidJWT
from oauth_provider.subjects import subject, subject_of
from tests.factories import ClientFactory, SignInFactory, UserFactory
from tests.helpers import signed_without_typ

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.com"  # tests/settings.py
API = "https://api.example.com/"
OTHER_API = "https://other.example.com/"
RESOURCES = {API: {"scopes": ["read", "write"]}, OTHER_API: {"scopes": ["read"]}}


@pytest.fixture
def jwt_client(db):
    return ClientFactory(access_token_format="jwt", grant_types=["client_credentials", "authorization_code"])


def issue(client, user=None, *, scopes=("read",), resources=(), **options):
    """A JWT access token issued now; returns (response body, value)."""
    response = issue_tokens(
        client=client,
        user=user,
        scopes=list(scopes),
        resources=list(resources),
        grant_type="client_credentials" if user is None else "authorization_code",
        refresh=False,
        **options,
    )
    return response, response["access_token"]


def segments(value):
    """(header, claims) of a compact JWS, unverified."""
    header, payload, _signature = value.split(".")
    return tuple(
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (header, payload)
    )


def b64(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def sign_with_our_key(header, claims):
    """A JWS signed with this server's active RS256 key, whatever its header and claims say."""
    key = signing_keys.signing_key("RS256")
    return jwt.encode({"alg": "RS256", "kid": key.kid, **header}, claims, key.jose_key, algorithms=["RS256"])


def valid_claims(**changes):
    now = int(clock.now().timestamp())
    claims = {
        "iss": ISSUER,
        "exp": now + 300,
        "aud": API,
        "sub": "someone",
        "client_id": "app",
        "iat": now,
        "jti": "j1",
        "scope": "read",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def assert_refused(value, **options):
    with pytest.raises(InvalidAccessToken):
        local_claims(value, audience=options.get("audience"))


# -- what we sign (§2.1, §2.2) ---------------------------------------------------------------------


def test_header_names_type_key_and_algorithm(jwt_client):
    _response, value = issue(jwt_client)

    header, _claims = segments(value)
    assert header == {"typ": "at+jwt", "alg": "RS256", "kid": signing_keys.signing_key("RS256").kid}


def test_claims_of_a_token_for_a_user(settings, jwt_client, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": RESOURCES}
    user = UserFactory()
    response, value = issue(jwt_client, user, scopes=["read", "write"], resources=[API], issuer=ISSUER)

    _header, claims = segments(value)
    now = int(frozen_clock.current.timestamp())
    assert claims == {
        "iss": ISSUER,
        "exp": now + response["expires_in"],
        "aud": API,
        # §2.2: the subject identifier the client knows the user by (public here).
        "sub": subject_of(user).public_id,
        "client_id": jwt_client.client_id,
        "iat": now,
        "jti": claims["jti"],
        "scope": "read write",
    }


def test_sub_of_a_pairwise_client_is_its_pairwise_identifier(db):
    user = UserFactory()
    pairwise = ClientFactory(access_token_format="jwt", subject_type="pairwise")

    _response, value = issue(pairwise, user)

    sub = segments(value)[1]["sub"]
    assert sub == subject(user, pairwise)
    assert sub != subject_of(user).public_id


def test_sub_of_a_client_credentials_token_is_the_client_id(jwt_client):
    # §2.2: "the sub claim SHOULD correspond to an identifier the authorization
    # server used to identify the client application".
    _response, value = issue(jwt_client)

    claims = segments(value)[1]
    assert claims["sub"] == claims["client_id"] == jwt_client.client_id


def test_auth_time_and_acr_come_from_the_openid_sign_in(jwt_client, frozen_clock):
    user = UserFactory()
    sign_in = SignInFactory(client=jwt_client, user=user, acr="urn:example:mfa")
    frozen_clock.advance(seconds=90)

    _response, value = issue(jwt_client, user, family_id=sign_in.family_id)

    claims = segments(value)[1]
    # §2.2.1, and the sub the sign-in's ID tokens carry.
    assert claims["auth_time"] == int(sign_in.auth_time.timestamp())
    assert claims["acr"] == "urn:example:mfa"
    assert claims["sub"] == sign_in.subject


def test_no_auth_time_without_a_sign_in(jwt_client):
    _response, value = issue(jwt_client, UserFactory())

    assert {"auth_time", "acr"}.isdisjoint(segments(value)[1])


def test_every_token_has_its_own_jti(jwt_client):
    first, second = issue(jwt_client)[1], issue(jwt_client)[1]

    assert segments(first)[1]["jti"] != segments(second)[1]["jti"]
    assert len(segments(first)[1]["jti"]) >= 20


def test_aud_names_every_resource(settings, jwt_client):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "RESOURCES": RESOURCES}

    _response, value = issue(jwt_client, resources=[API, OTHER_API])

    assert segments(value)[1]["aud"] == [API, OTHER_API]


def test_aud_without_resources_is_the_issuer(jwt_client):
    # §3: a default resource indicator when none was requested; with no
    # declared resource that is this server itself.
    _response, value = issue(jwt_client)

    assert segments(value)[1]["aud"] == ISSUER


def test_iss_is_the_issuer_passed_when_the_setting_is_unset(settings, jwt_client):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}

    _response, value = issue(jwt_client, issuer="https://login.example.org")

    assert segments(value)[1]["iss"] == "https://login.example.org"


def test_no_issuer_at_all_is_a_programming_error(settings, jwt_client):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}

    with pytest.raises(ValueError, match="issuer"):
        issue(jwt_client)


# -- validation (§4) -------------------------------------------------------------------------------


def test_a_token_we_issued_validates(jwt_client):
    _response, value = issue(jwt_client, scopes=["read", "write"])

    claims = local_claims(value, audience=None)

    assert claims["client_id"] == jwt_client.client_id
    assert claims["scope"] == "read write"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_is_compared_case_insensitively(typ):
    assert local_claims(sign_with_our_key({"typ": typ}, valid_claims()), audience=None)["jti"] == "j1"


@pytest.mark.parametrize("typ", ["JWT", "logout+jwt", "jwt", "at+jwt ", "at+jwt;q=1"])
def test_other_typ_is_refused(typ):
    assert_refused(sign_with_our_key({"typ": typ}, valid_claims()))


def test_no_typ_is_refused():
    assert_refused(signed_without_typ(valid_claims()))


def test_an_id_token_is_no_access_token_and_the_other_way_round(jwt_client):
    id_token = sign_with_our_key({"typ": "JWT"}, valid_claims(aud=jwt_client.client_id))
    assert_refused(id_token)

    _response, access_token = issue(jwt_client)
    with pytest.raises(InvalidJWT):
        verify_hint(access_token, issuer=ISSUER)


def test_tampered_payload_is_refused(jwt_client):
    _response, value = issue(jwt_client, scopes=["read"])
    header, _payload, signature = value.split(".")
    claims = segments(value)[1]

    forged = f"{header}.{b64({**claims, 'scope': 'read write admin'})}.{signature}"

    assert_refused(forged)


def test_tampered_header_is_refused(jwt_client):
    _response, value = issue(jwt_client)
    _header, payload, signature = value.split(".")
    header = segments(value)[0]

    assert_refused(f"{b64({**header, 'typ': 'application/at+jwt'})}.{payload}.{signature}")


def test_tampered_signature_is_refused(jwt_client):
    _response, value = issue(jwt_client)
    head, signature = value.rsplit(".", 1)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]

    assert_refused(f"{head}.{flipped}")


def test_a_signature_by_another_of_our_keys_is_refused(jwt_client):
    _response, value = issue(jwt_client)
    other = signing_keys.signing_key("ES256")
    header = {**segments(value)[0], "kid": other.kid}

    assert_refused(f"{b64(header)}.{value.split('.', 1)[1]}")


def test_alg_none_is_refused():
    key = signing_keys.signing_key("RS256")
    unsigned = f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': key.kid})}.{b64(valid_claims())}."

    assert_refused(unsigned)


def test_hmac_with_the_public_key_as_secret_is_refused():
    # The classic confusion: HS256 keyed with the RSA public key everyone can read.
    key = signing_keys.signing_key("RS256")
    secret = key.jose_key.as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': key.kid})}.{b64(valid_claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    assert_refused(f"{signing_input}.{signature}")


def test_an_algorithm_left_out_of_the_setting_is_refused(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_ALGORITHMS": ["RS256"]}
    key = signing_keys.signing_key("ES256")
    value = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, valid_claims(), key.jose_key, algorithms=["ES256"]
    )

    assert_refused(value)


def test_every_signing_algorithm_of_the_setting_is_accepted():
    for algorithm in ("ES256", "EdDSA"):
        key = signing_keys.signing_key(algorithm)
        value = signing_keys.sign(valid_claims(), algorithm, typ="at+jwt")
        assert segments(value)[0]["kid"] == key.kid
        assert local_claims(value, audience=None)["sub"] == "someone"


def test_wrong_issuer_is_refused():
    assert_refused(sign_with_our_key({"typ": "at+jwt"}, valid_claims(iss="https://evil.example.com")))


def test_without_the_issuer_setting_our_own_keys_vouch_for_the_token(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ISSUER": None}

    claims = local_claims(
        sign_with_our_key({"typ": "at+jwt"}, valid_claims(iss="https://a.test")), audience=None
    )

    assert claims["iss"] == "https://a.test"


def test_audience_is_checked_when_one_is_expected():
    value = sign_with_our_key({"typ": "at+jwt"}, valid_claims(aud=[API, OTHER_API]))

    assert local_claims(value, audience=API)["aud"] == [API, OTHER_API]
    assert local_claims(value, audience=None)
    with pytest.raises(InvalidAccessToken, match="audience"):
        local_claims(value, audience="https://elsewhere.example.com/")


def test_a_token_without_resources_is_refused_where_a_resource_is_enforced(jwt_client):
    _response, value = issue(jwt_client)

    assert_refused(value, audience=API)


@pytest.mark.parametrize("missing", ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"])
def test_each_required_claim_is_required(missing):
    assert_refused(sign_with_our_key({"typ": "at+jwt"}, valid_claims(**{missing: None})))


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": "soon"},
        {"exp": True},
        {"iat": None, "nbf": 0},
        {"aud": []},
        {"aud": [1]},
        {"sub": 7},
        {"scope": 1},
    ],
)
def test_malformed_claims_are_refused(changes):
    assert_refused(sign_with_our_key({"typ": "at+jwt"}, valid_claims(**changes)))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "opat_abc",
        "a.b.c",
        "..",
        "é.é.é",
        "a.b.c.d",
        "x" * 5000 + ".a.b",
        # Headers: RS256 without typ or kid; a JSON array; JSON null; a numeric kid.
        "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
        "W10.e30.AAAA",
        "bnVsbA.e30.AAAA",
        "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.AAAA",
        # A payload that is not base64url.
        "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.!!.AAAA",
    ],
)
def test_malformed_values_are_refused(value):
    assert_refused(value)


def test_payload_that_is_not_an_object_is_refused():
    key = signing_keys.signing_key("RS256")
    from joserfc import jws

    value = jws.serialize_compact({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, b"[1, 2]", key.jose_key)

    assert_refused(value)


def test_looks_like_jwt_tells_jwts_from_opaque_tokens(jwt_client):
    assert looks_like_jwt(issue(jwt_client)[1])
    assert not looks_like_jwt(issue(ClientFactory())[1])


# -- time (exp, nbf, iat with ACCESS_TOKEN_LEEWAY_SECONDS) -----------------------------------------


def test_expired_token_is_accepted_within_the_leeway_only(jwt_client, frozen_clock):
    response, value = issue(jwt_client)

    frozen_clock.advance(seconds=response["expires_in"] + 29)
    assert local_claims(value, audience=None)

    frozen_clock.advance(seconds=1)
    with pytest.raises(InvalidAccessToken, match="expired"):
        local_claims(value, audience=None)


def test_without_leeway_a_token_expires_at_exp(settings, jwt_client, frozen_clock):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "ACCESS_TOKEN_LEEWAY_SECONDS": 0}
    response, value = issue(jwt_client)

    frozen_clock.advance(seconds=response["expires_in"] - 1)
    assert local_claims(value, audience=None)

    frozen_clock.advance(seconds=1)
    assert_refused(value)


@pytest.mark.parametrize("name", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused_beyond_the_leeway(name, frozen_clock):
    now = int(frozen_clock.current.timestamp())

    within = sign_with_our_key({"typ": "at+jwt"}, valid_claims(**{name: now + 30}))
    beyond = sign_with_our_key({"typ": "at+jwt"}, valid_claims(**{name: now + 31}))

    assert local_claims(within, audience=None)
    assert_refused(beyond)


# -- our keys: rotation, other processes, queries --------------------------------------------------


def test_a_token_signed_by_a_retiring_key_validates_until_it_expires(jwt_client, frozen_clock):
    old_kid = signing_keys.signing_key("RS256").kid
    signing_keys.rotate(["RS256"], delay=timedelta(seconds=60))
    response, value = issue(jwt_client)
    assert segments(value)[0]["kid"] == old_kid

    # The new key signs, the old one is retired but still published.
    frozen_clock.advance(seconds=120)
    assert signing_keys.signing_key("RS256").kid != old_kid
    assert SigningKey.objects.get(kid=old_kid).state == SigningKey.State.RETIRED
    assert local_claims(value, audience=None)["jti"]

    frozen_clock.advance(seconds=response["expires_in"] - 120 + 30)
    assert_refused(value)


def test_the_retired_key_stays_published_for_the_longest_jwt_access_token(settings, frozen_clock):
    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "ID_TOKEN_EXPIRE_SECONDS": 60,
        "JWT_ACCESS_TOKEN_EXPIRE_SECONDS": 900,
    }
    old_kid = signing_keys.signing_key("RS256").kid

    signing_keys.rotate(["RS256"], delay=timedelta(0))

    old = SigningKey.objects.get(kid=old_kid)
    assert old.expires_at == frozen_clock.current + timedelta(seconds=900 + 30)


def test_rotatekeys_now_keeps_tokens_valid_and_drop_retired_ends_them(jwt_client):
    _response, value = issue(jwt_client)
    assert local_claims(value, audience=None)

    call_command("rotatekeys", "--now", stdout=StringIO(), stderr=StringIO())
    assert local_claims(value, audience=None)

    call_command("rotatekeys", "--now", "--drop-retired", stdout=StringIO(), stderr=StringIO())
    assert_refused(value)


def test_validation_needs_no_query_once_the_keys_are_read(jwt_client, django_assert_num_queries):
    _response, value = issue(jwt_client)
    local_claims(value, audience=None)

    with django_assert_num_queries(0):
        for _ in range(3):
            assert local_claims(value, audience=None)


def test_a_key_another_process_made_is_found_on_its_first_token(
    jwt_client, frozen_clock, django_assert_num_queries
):
    first = issue(jwt_client)[1]
    frozen_clock.advance(seconds=30)
    local_claims(first, audience=None)  # This process reads the keys now.
    # Another process replaces the key (what rotate(delay=0) writes), without
    # this process knowing: its caches are untouched.
    now = frozen_clock.current
    SigningKey.objects.filter(algorithm="RS256").update(retired_at=now, expires_at=now + timedelta(hours=2))
    new = signing_keys.create_key("RS256", activates_at=now)
    # Which key signs is read again after SIGNING_KEY_CACHE_SECONDS.
    frozen_clock.advance(seconds=signing_keys.SIGNING_KEY_CACHE_SECONDS - 29)
    second = issue(jwt_client)[1]
    assert segments(second)[0]["kid"] == new.kid

    with django_assert_num_queries(1):
        assert local_claims(second, audience=None)
    with django_assert_num_queries(0):
        assert local_claims(second, audience=None)
        assert local_claims(first, audience=None)


def test_unknown_kids_read_the_keys_again_at_most_once_a_second(frozen_clock, django_assert_num_queries):
    local_claims(sign_with_our_key({"typ": "at+jwt"}, valid_claims()), audience=None)
    made_up = f"{b64({'alg': 'RS256', 'typ': 'at+jwt', 'kid': 'made-up'})}.{b64(valid_claims())}.AAAA"
    frozen_clock.advance(seconds=2)

    with django_assert_num_queries(1):
        for _ in range(5):
            assert_refused(made_up)
    frozen_clock.advance(seconds=1)
    with django_assert_num_queries(1):
        assert_refused(made_up)


def test_keys_managed_in_settings_validate_without_queries(
    settings, jwt_client, pem_keys, django_assert_num_queries
):
    _response, value = issue(jwt_client)

    with django_assert_num_queries(0):
        assert local_claims(value, audience=None)["client_id"] == jwt_client.client_id


@pytest.fixture
def pem_keys(settings):
    from .helpers import private_pem

    settings.OAUTH_PROVIDER = {
        **settings.OAUTH_PROVIDER,
        "OIDC_SIGNING_KEYS": [
            {"kid": "managed-rsa", "algorithm": "RS256", "private_key": private_pem("RS256")}
        ],
    }


# -- a resource server elsewhere: decode with the issuer's JWKS -------------------------------------


def test_decode_with_the_published_jwks(jwt_client):
    _response, value = issue(jwt_client)
    keys = KeySet.import_key_set(json.loads(json.dumps(signing_keys.jwks())))

    claims = decode(value, keys=keys, issuer=ISSUER, audience=ISSUER, leeway=0)

    assert claims["client_id"] == jwt_client.client_id
    with pytest.raises(jwt_access_tokens.UnknownKey):
        decode(value, keys=KeySet([]), issuer=ISSUER, audience=None, leeway=0)
    with pytest.raises(InvalidAccessToken):
        decode(value, keys=keys, issuer="https://someone-else.example.com", audience=None, leeway=0)


def test_the_module_imports_without_the_app_installed():
    # A resource server that does not install oauth_provider imports it too.
    code = (
        "import sys\n"
        "from django.conf import settings\n"
        "settings.configure()\n"
        "import oauth_provider.jwt_access_tokens\n"
        "assert 'oauth_provider.models' not in sys.modules, 'models imported'\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr


def test_a_key_published_for_another_algorithm_does_not_verify(jwt_client):
    # A JWKS key says which algorithm it is for (RFC 7517 §4.4): RS256 with an RS384 key is refused.
    _response, value = issue(jwt_client)
    kid = segments(value)[0]["kid"]
    published = [key for key in signing_keys.jwks()["keys"] if key["kid"] == kid]
    keys = KeySet.import_key_set({"keys": [{**published[0], "alg": "RS384"}]})

    with pytest.raises(InvalidAccessToken):
        decode(value, keys=keys, issuer=ISSUER, audience=None, leeway=0)


@pytest.mark.parametrize(
    "header",
    [
        {"crit": ["https://example.com/extension"], "https://example.com/extension": 1},
        {"b64": True, "crit": ["b64"]},
    ],
)
def test_header_extensions_we_never_use_are_refused(header):
    # Signed by hand: joserfc itself would not sign an unknown critical extension.
    key = signing_keys.signing_key("RS256")
    signing_input = (
        f"{b64({'alg': 'RS256', 'typ': 'at+jwt', 'kid': key.kid, **header})}.{b64(valid_claims())}"
    )
    signature = key.jose_key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    value = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    with pytest.raises(InvalidAccessToken, match="header parameter"):
        local_claims(value, audience=None)


# -- tokens verified before ------------------------------------------------------------------------


@pytest.fixture
def verifications(monkeypatch):
    """How many signatures ``jwt_access_tokens`` verifies during the test."""
    calls = []
    real = jwt_access_tokens.validate_compact

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt_access_tokens, "validate_compact", counting)
    return calls


def test_a_token_verified_before_is_not_verified_again(jwt_client, verifications):
    _response, value = issue(jwt_client)

    for _ in range(3):
        assert local_claims(value, audience=None)["client_id"] == jwt_client.client_id

    assert len(verifications) == 1


def test_a_reloaded_key_set_verifies_again(jwt_client, frozen_clock, verifications):
    _response, value = issue(jwt_client)
    local_claims(value, audience=None)

    frozen_clock.advance(seconds=signing_keys.SIGNING_KEY_CACHE_SECONDS)
    local_claims(value, audience=None)

    assert len(verifications) == 2


def test_the_claims_of_a_token_verified_before_are_checked_again(jwt_client, frozen_clock):
    response, value = issue(jwt_client)
    local_claims(value, audience=None)

    with pytest.raises(InvalidAccessToken, match="audience"):
        local_claims(value, audience=API)
    frozen_clock.advance(seconds=response["expires_in"] + 30)
    with pytest.raises(InvalidAccessToken, match="expired"):
        local_claims(value, audience=None)


def test_the_claims_returned_are_a_copy(jwt_client):
    _response, value = issue(jwt_client)
    local_claims(value, audience=None)["scope"] = "admin"

    assert local_claims(value, audience=None)["scope"] == "read"


def test_tokens_verified_before_are_bounded_oldest_first(monkeypatch, jwt_client, verifications):
    monkeypatch.setattr(jwt_access_tokens, "VERIFIED_MAX_TOKENS", 2)
    monkeypatch.setattr(jwt_access_tokens, "_verified", type(jwt_access_tokens._verified)())
    first, second, third = (issue(jwt_client)[1] for _ in range(3))
    for value in (first, second, third):
        local_claims(value, audience=None)

    local_claims(third, audience=None)
    assert len(verifications) == 3
    local_claims(first, audience=None)
    assert len(verifications) == 4


def test_keys_managed_in_settings_remember_verified_tokens_too(pem_keys, jwt_client, verifications):
    _response, value = issue(jwt_client)

    local_claims(value, audience=None)
    local_claims(value, audience=None)

    assert len(verifications) == 1
