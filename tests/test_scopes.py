"""Scope strings (RFC 6749 §3.3): parsing and resolving against server and client scopes."""

import pytest
from django.test import override_settings

from oauth_provider.errors import InvalidScope
from oauth_provider.scopes import describe, format_scope, parse_scope, resolve_scope

from .factories import ClientFactory

# tests/settings.py: SCOPES read, write, admin; DEFAULT_SCOPES ["read"].


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("read", ["read"]),
        ("read write", ["read", "write"]),
        ("write read", ["write", "read"]),
        ("read write read", ["read", "write"]),
        ("write read write read", ["write", "read"]),
        ("read  write", ["read", "write"]),
        ("", []),
        (None, []),
        (
            "urn:example:scope https://api.example.com/x!#$",
            ["urn:example:scope", "https://api.example.com/x!#$"],
        ),
    ],
)
def test_parse_scope_keeps_order_and_drops_repeats(value, expected):
    assert parse_scope(value) == expected


@pytest.mark.parametrize(
    "value",
    ['read "write"', "read\\write", "read\twrite", "read\nwrite", "caf\u00e9", "read\x00", "read\x7f"],
)
def test_parse_scope_rejects_characters_outside_the_rfc_set(value):
    with pytest.raises(InvalidScope) as excinfo:
        parse_scope(value)
    assert excinfo.value.error == "invalid_scope"


def test_format_scope_joins_with_single_spaces():
    assert format_scope(["read", "write"]) == "read write"


def test_describe_uses_scope_descriptions():
    assert describe(["read", "unknown"]) == [("read", "Read your data"), ("unknown", "unknown")]


@pytest.mark.django_db
class TestResolveScope:
    def test_requested_scopes_are_granted(self):
        client = ClientFactory()
        assert resolve_scope("write read", client) == ["write", "read"]

    def test_missing_scope_gets_the_default(self):
        assert resolve_scope(None, ClientFactory()) == ["read"]

    def test_empty_scope_gets_the_default(self):
        assert resolve_scope("", ClientFactory()) == ["read"]

    def test_missing_scope_without_default_is_invalid_scope(self):
        client = ClientFactory()
        with (
            override_settings(OAUTH_PROVIDER={"SCOPES": {"read": "r"}, "DEFAULT_SCOPES": []}),
            pytest.raises(InvalidScope),
        ):
            resolve_scope(None, client)

    def test_default_not_allowed_for_client_is_invalid_scope(self):
        client = ClientFactory(scopes=["write"])
        with pytest.raises(InvalidScope):
            resolve_scope(None, client)

    def test_default_is_limited_to_client_scopes(self):
        client = ClientFactory(scopes=["write"])
        with override_settings(
            OAUTH_PROVIDER={"SCOPES": {"read": "r", "write": "w"}, "DEFAULT_SCOPES": ["read", "write"]}
        ):
            assert resolve_scope(None, client) == ["write"]

    def test_unknown_scope_is_invalid_scope(self):
        with pytest.raises(InvalidScope):
            resolve_scope("read delete", ClientFactory())

    def test_scope_not_allowed_for_client_is_invalid_scope(self):
        client = ClientFactory(scopes=["read"])
        with pytest.raises(InvalidScope):
            resolve_scope("read write", client)

    def test_client_scopes_allow_their_own_scopes(self):
        client = ClientFactory(scopes=["read", "admin"])
        assert resolve_scope("admin", client) == ["admin"]

    def test_empty_client_scopes_allow_every_server_scope(self):
        client = ClientFactory(scopes=[])
        assert resolve_scope("read write admin", client) == ["read", "write", "admin"]

    def test_client_scope_removed_from_server_is_invalid_scope(self):
        client = ClientFactory(scopes=["read", "legacy"])
        with pytest.raises(InvalidScope):
            resolve_scope("legacy", client)

    def test_malformed_scope_is_invalid_scope(self):
        with pytest.raises(InvalidScope):
            resolve_scope('read "write"', ClientFactory())
