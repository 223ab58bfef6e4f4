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
