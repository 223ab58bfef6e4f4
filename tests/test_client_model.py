"""Client.clean: the one place a client's scopes and grant types are validated."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("scopes", ["read", "delete_everything"], "Unknown scope 'delete_everything'"),
        ("scopes", "read", "Unknown scope 'read'"),  # not a list
        ("scopes", [["read"]], "Unknown scope ['read']"),  # unhashable entry: an error, not a TypeError
        ("grant_types", ["authorization_code", "magic"], "Unknown grant type 'magic'"),
        ("grant_types", [None], "Unknown grant type None"),
    ],
)
def test_unknown_values_are_named_in_the_error(field, value, message):
    client = ClientFactory.build(**{field: value})
    with pytest.raises(ValidationError) as error:
        client.full_clean()
    assert any(message in text for text in error.value.message_dict[field])


def test_known_values_pass():
    ClientFactory.build(scopes=["read"], grant_types=["authorization_code"]).full_clean()


def test_id_token_algorithm_the_server_does_not_sign_with_is_refused(settings):
    """A client (self-service ones included) cannot make the server sign with
    an algorithm its operator left out of OIDC_SIGNING_ALGORITHMS: a key would
    be made for it on first use and never rotated (or, with keys in
    OIDC_SIGNING_KEYS, there is none and its ID tokens cannot be signed)."""
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_ALGORITHMS": ["RS256"]}
    client = ClientFactory.build(id_token_signed_response_alg="ES256")

    with pytest.raises(ValidationError) as error:
        client.full_clean()

    assert error.value.message_dict["id_token_signed_response_alg"] == [
        "The server does not sign ID tokens with ES256. It signs with: RS256."
    ]


def test_id_token_algorithm_the_server_signs_with_passes(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_SIGNING_ALGORITHMS": ["RS256", "EdDSA"]}
    ClientFactory.build(id_token_signed_response_alg="EdDSA").full_clean()
