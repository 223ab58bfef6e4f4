"""Building ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.6, §5.4, §5.5): id_tokens.build."""

import base64
import hashlib
import uuid
from datetime import timedelta

import pytest
from authlib.oidc.core.util import create_half_hash

from oauth_provider import id_tokens, signing_keys
from oauth_provider.models import Client, SignIn
from oauth_provider.subjects import subject
from tests.factories import ClientFactory, UserFactory
from tests.helpers import signed_without_typ
from tests.id_token_helpers import ISSUER, NONCE, decode, enable_openid

pytestmark = pytest.mark.django_db
ACCESS_TOKEN = "opat_dNZX1hEZ9wBCNeJhMb0aQ7WYTkGB2XCEmPKh6nbo3S0"
CODE = "opac_Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"


@pytest.fixture(autouse=True)
def openid(settings):
    enable_openid(settings)


@pytest.fixture
def person(db):
    return UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")


def sign_in_for(client, user, frozen_clock, **fields):
    return SignIn.objects.create(
        family_id=uuid.uuid4(),
        client=client,
        user=user,
        sid="session-1",
        auth_time=frozen_clock.current - timedelta(minutes=5),
        **{"nonce": NONCE, **fields},
    )


def build(sign_in, scopes=("openid",), **kwargs):
    return id_tokens.build(
        sign_in, client=sign_in.client, user=sign_in.user, scopes=list(scopes), issuer=ISSUER, **kwargs
    )


def test_every_claim_of_the_code_flow(person, frozen_clock):
    app = ClientFactory()
    sign_in = sign_in_for(app, person, frozen_clock)

    _header, claims = decode(build(sign_in, access_token=ACCESS_TOKEN))

    now = int(frozen_clock.current.timestamp())
    assert claims == {
        "iss": ISSUER,
        "sub": subject(person, app),
        "aud": [app.client_id],
        "exp": now + 3600,
        "iat": now,
        "auth_time": int(sign_in.auth_time.timestamp()),
        "nonce": NONCE,
        "azp": app.client_id,
        "at_hash": id_tokens.half_hash(ACCESS_TOKEN, "RS256"),
        "sid": "session-1",
    }


def test_a_pairwise_client_gets_its_own_sub(person, frozen_clock):
    public = ClientFactory()
    pairwise = ClientFactory(
        subject_type=Client.SubjectType.PAIRWISE, redirect_uris="https://other.example/cb"
    )
    _header, seen_by_public = decode(build(sign_in_for(public, person, frozen_clock)))
    _header, seen_by_pairwise = decode(build(sign_in_for(pairwise, person, frozen_clock)))
    assert seen_by_pairwise["sub"] == subject(person, pairwise) != seen_by_public["sub"]


def test_lifetime_follows_the_setting(settings, person, frozen_clock):
    enable_openid(settings, ID_TOKEN_EXPIRE_SECONDS=300)
    _header, claims = decode(build(sign_in_for(ClientFactory(), person, frozen_clock)))
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_signed_with_the_clients_algorithm_and_verifiable_with_the_published_jwks(
    person, frozen_clock, algorithm
):
    app = ClientFactory(id_token_signed_response_alg=algorithm)
    token = build(sign_in_for(app, person, frozen_clock), access_token=ACCESS_TOKEN, code=CODE)

    header, claims = decode(token)

    assert header == {"alg": algorithm, "kid": signing_keys.signing_key(algorithm).kid, "typ": "JWT"}
    published = {key["kid"]: key for key in signing_keys.jwks()["keys"]}
    assert published[header["kid"]]["alg"] == algorithm
    # The hashes a relying party library computes for this algorithm (Authlib's).
    assert claims["at_hash"] == create_half_hash(ACCESS_TOKEN, algorithm).decode()
    assert claims["c_hash"] == create_half_hash(CODE, algorithm).decode()


@pytest.mark.parametrize(
    ("algorithm", "hash_function"),
    [("RS256", hashlib.sha256), ("ES256", hashlib.sha256), ("EdDSA", hashlib.sha512)],
)
def test_half_hash_is_the_left_half_of_the_algorithms_hash(algorithm, hash_function):
    digest = hash_function(ACCESS_TOKEN.encode()).digest()
    expected = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
    assert id_tokens.half_hash(ACCESS_TOKEN, algorithm) == expected
    assert len(id_tokens.half_hash(ACCESS_TOKEN, algorithm)) == (22 if algorithm != "EdDSA" else 43)


def test_no_nonce_when_none_was_sent(person, frozen_clock):
    _header, claims = decode(build(sign_in_for(ClientFactory(), person, frozen_clock, nonce="")))
    assert "nonce" not in claims


def test_no_nonce_when_asked_not_to_even_if_one_was_sent(person, frozen_clock):
    _header, claims = decode(build(sign_in_for(ClientFactory(), person, frozen_clock), nonce=False))
    assert "nonce" not in claims


def test_no_hashes_without_an_access_token_or_code(person, frozen_clock):
    _header, claims = decode(build(sign_in_for(ClientFactory(), person, frozen_clock)))
    assert "at_hash" not in claims
    assert "c_hash" not in claims


def test_acr_and_amr_are_claimed_only_when_known(person, frozen_clock):
    app = ClientFactory()
    _header, unknown = decode(build(sign_in_for(app, person, frozen_clock)))
    _header, known = decode(
        build(sign_in_for(app, person, frozen_clock, acr="urn:mace:incommon:iap:silver", amr=["pwd"]))
    )
    assert "acr" not in unknown
    assert "amr" not in unknown
    assert (known["acr"], known["amr"]) == ("urn:mace:incommon:iap:silver", ["pwd"])


def test_no_user_claims_unless_asked_for_in_the_id_token(person, frozen_clock):
    """§5.4: scope claims go to UserInfo when an access token is issued."""
    sign_in = sign_in_for(ClientFactory(), person, frozen_clock)
    _header, claims = decode(build(sign_in, scopes=("openid", "profile", "email")))
    assert not {"name", "email", "preferred_username"} & set(claims)


def test_claims_requested_for_the_id_token_are_released_within_the_granted_scopes(person, frozen_clock):
    requested = {
        "id_token": {"email": {"essential": True}, "name": None, "auth_time": {"essential": True}},
        "userinfo": {"preferred_username": None},
    }
    sign_in = sign_in_for(ClientFactory(), person, frozen_clock, claims=requested)

    _header, claims = decode(build(sign_in, scopes=("openid", "email")))

    assert claims["email"] == "ada@example.com"
    # name is a profile claim, and profile was not granted; userinfo's claims stay there.
    assert "name" not in claims
    assert "preferred_username" not in claims
    assert claims["auth_time"] == int(sign_in.auth_time.timestamp())


def test_scope_claims_go_in_the_id_token_when_asked(person, frozen_clock):
    """§5.4: response_type=id_token issues no access token to ask UserInfo with."""
    sign_in = sign_in_for(ClientFactory(), person, frozen_clock)

    _header, claims = decode(build(sign_in, scopes=("openid", "profile"), scope_claims=True))

    assert claims["name"] == "Ada Lovelace"
    assert claims["given_name"] == "Ada"
    assert claims["preferred_username"] == person.username
    assert "email" not in claims  # email was not granted


# -- id_token_hint: verify_hint (Core §3.1.2.1, RP-Initiated Logout 1.0 §2) ---------------------


def hint_claims(client, user, **overrides):
    """Long expired: a hint is accepted all the same."""
    claims = {"iss": ISSUER, "sub": subject(user, client), "aud": [client.client_id], "iat": 1, "exp": 2}
    return {**claims, **overrides}


def test_a_hint_is_verified_even_expired(person):
    client = ClientFactory()
    token = signing_keys.sign(hint_claims(client, person), "RS256")

    claims = id_tokens.verify_hint(token, issuer=ISSUER)

    assert claims["sub"] == subject(person, client)
    assert id_tokens.audiences(claims) == [client.client_id]


def test_audiences_of_a_single_audience(person):
    client = ClientFactory()
    token = signing_keys.sign(hint_claims(client, person, aud=client.client_id), "ES256")

    assert id_tokens.audiences(id_tokens.verify_hint(token, issuer=ISSUER)) == [client.client_id]


@pytest.mark.parametrize(
    "make",
    [
        lambda claims: "not-a-jwt",
        lambda claims: signing_keys.sign(claims, "RS256", typ="logout+jwt"),
        lambda claims: signing_keys.sign(claims, "RS256", typ="at+jwt"),
        lambda claims: signed_without_typ(claims),
        lambda claims: signing_keys.sign({**claims, "iss": "https://other.example"}, "RS256"),
        lambda claims: signing_keys.sign({**claims, "sub": 7}, "RS256"),
        lambda claims: signing_keys.sign({k: v for k, v in claims.items() if k != "sub"}, "RS256"),
        lambda claims: signing_keys.sign({**claims, "aud": []}, "RS256"),
        lambda claims: signing_keys.sign({**claims, "aud": 7}, "RS256"),
        lambda claims: signing_keys.sign({**claims, "aud": ["a", 7]}, "RS256"),
        lambda claims: signing_keys.sign({k: v for k, v in claims.items() if k != "aud"}, "RS256"),
    ],
    ids=[
        "garbage",
        "logout-token",
        "access-token",
        "no-typ",
        "other-issuer",
        "sub-not-a-string",
        "no-sub",
        "empty-aud",
        "aud-a-number",
        "aud-not-strings",
        "no-aud",
    ],
)
def test_what_is_no_id_token_of_this_issuer_is_refused(person, make):
    token = make(hint_claims(ClientFactory(), person))

    with pytest.raises(signing_keys.InvalidJWT):
        id_tokens.verify_hint(token, issuer=ISSUER)
