"""``CompiledLookup``: one precompiled query, instances as the ORM would make them."""

import pytest
from django.db import connection

from oauth_provider.compiled_lookup import CompiledLookup, Join
from oauth_provider.models import AccessToken, Client, RefreshToken
from oauth_provider.subjects import subject_of

from .factories import AccessTokenFactory, ClientFactory, RefreshTokenFactory

pytestmark = pytest.mark.django_db

TOKEN = CompiledLookup(
    AccessToken,
    "token_hash",
    joins=[Join("client", ("id", "client_id")), Join("user", excluded=("password",))],
)


def test_instance_matches_the_orm(django_assert_num_queries):
    token = AccessTokenFactory(scope="read write")
    with django_assert_num_queries(1):
        found = TOKEN.get(token.token_hash)
        # The joined rows came with it: reading them costs nothing more.
        assert found.client.client_id == token.client.client_id
        assert found.user.username == token.user.username
    fetched = AccessToken.objects.get(pk=token.pk)
    for field in AccessToken._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(fetched, field.attname), field.name
    # Database values went through the ORM's converters (SQLite stores text).
    assert found.expires_at.tzinfo is not None
    assert found._state.db == "default"
    assert not found._state.adding


def test_left_out_columns_are_deferred_and_load_on_access(django_assert_num_queries):
    token = AccessTokenFactory()
    found = TOKEN.get(token.token_hash)
    assert "password" in found.user.get_deferred_fields()
    assert "name" in found.client.get_deferred_fields()
    with django_assert_num_queries(1):
        assert found.client.name == token.client.name


def test_empty_nullable_foreign_key_is_none_without_a_query(django_assert_num_queries):
    token = AccessTokenFactory(user=None)
    with django_assert_num_queries(1):
        found = TOKEN.get(token.token_hash)
        assert found.user is None


def test_unknown_value_is_none(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert TOKEN.get("0" * 64) is None


def test_no_joins_reads_every_column():
    client = ClientFactory(name="App")
    found = CompiledLookup(Client, "client_id").get(client.client_id)
    assert found.get_deferred_fields() == set()
    assert found.name == "App"
    assert found.grant_types == client.grant_types


def test_compiled_once_per_database():
    lookup = CompiledLookup(RefreshToken, "token_hash", joins=[Join("client")])
    assert lookup.statement("default") is lookup.statement("default")
    sql = lookup.statement("default").sql
    assert "ORDER BY" not in sql
    assert sql.count("%s") == 1
    assert "INNER JOIN" in sql  # client is not nullable
    token = RefreshTokenFactory()
    assert lookup.get(token.token_hash).client == token.client


def test_nullable_foreign_key_is_an_outer_join():
    assert "LEFT OUTER JOIN" in TOKEN.statement("default").sql
    assert connection.ops.quote_name("auth_user") in TOKEN.statement("default").sql


# Two ways to the same row ---------------------------------------------------


@pytest.mark.parametrize("with_user", [True, False])
def test_orm_reads_the_same_row_as_the_sql(with_user):
    token = AccessTokenFactory(**({} if with_user else {"user": None}))
    assert TOKEN.statement("default").sql is not None
    row = TOKEN.fetch_row("default", token.token_hash)
    assert row == TOKEN.fetch_row_with_orm("default", token.token_hash)
    assert TOKEN.fetch_row_with_orm("default", "0" * 64) is None


def test_where_the_sql_cannot_be_proven_right_the_orm_answers_in_one_query(
    monkeypatch, django_assert_num_queries
):
    # A column the backend selects through an SQL expression with parameters
    # (a field's select_format), which the precompiled SQL does not carry.
    def select_format(compiler, sql, params):
        return f"COALESCE({sql}, %s)", [*params, ""]

    monkeypatch.setattr(AccessToken._meta.get_field("scope"), "select_format", select_format, raising=False)
    lookup = CompiledLookup(
        AccessToken, "token_hash", joins=[Join("client"), Join("user", excluded=("password",))]
    )
    token = AccessTokenFactory(scope="read write")
    assert lookup.statement("default").sql is None
    with django_assert_num_queries(1) as captured:
        found = lookup.get(token.token_hash)
        assert found.user.username == token.user.username
        assert found.client.client_id == token.client.client_id
    assert "COALESCE" in captured.captured_queries[0]["sql"]
    assert connection.ops.quote_name("password") not in captured.captured_queries[0]["sql"]
    assert "password" in found.user.get_deferred_fields()
    assert (found.scope, found.expires_at) == ("read write", token.expires_at)


def test_layout_fingerprint_names_the_columns_in_order(monkeypatch):
    same = CompiledLookup(
        AccessToken,
        "token_hash",
        joins=[Join("client", ("client_id", "id")), Join("user", excluded=("password",))],
    )
    assert TOKEN.layout.fingerprint == same.layout.fingerprint
    assert TOKEN.layout.paths[-1] == "user__date_joined"
    fewer = CompiledLookup(
        AccessToken, "token_hash", joins=[Join("client", ("id",)), Join("user", excluded=("password",))]
    )
    assert fewer.layout.fingerprint != TOKEN.layout.fingerprint
    # A deploy that renames a column or changes its type changes it too.
    scope = AccessToken._meta.get_field("scope")
    monkeypatch.setattr(scope, "column", "scopes")
    renamed = CompiledLookup(AccessToken, "token_hash", joins=TOKEN.joins)
    assert renamed.layout.fingerprint != TOKEN.layout.fingerprint
    monkeypatch.setattr(scope, "column", "scope")
    monkeypatch.setattr(scope, "__class__", type("ScopeField", (type(scope),), {"__module__": __name__}))
    retyped = CompiledLookup(AccessToken, "token_hash", joins=TOKEN.joins)
    assert retyped.layout.fingerprint != TOKEN.layout.fingerprint
    monkeypatch.undo()
    assert (
        CompiledLookup(AccessToken, "token_hash", joins=TOKEN.joins).layout.fingerprint
        == TOKEN.layout.fingerprint
    )


# -- a reverse one-to-one of a joined row (the user's subject identifiers) -----------------------

WITH_SUBJECT = CompiledLookup(
    AccessToken,
    "token_hash",
    joins=[Join("user", excluded=("password",)), Join("oauth_subject", through="user")],
)


def test_reverse_one_to_one_comes_in_the_same_query(django_assert_num_queries):
    token = AccessTokenFactory()
    public_id = subject_of(token.user).public_id

    with django_assert_num_queries(1):
        found = WITH_SUBJECT.get(token.token_hash)
        assert found.user.oauth_subject.public_id == public_id
        assert found.user.oauth_subject.user is found.user
    row = WITH_SUBJECT.fetch_row("default", token.token_hash)
    assert row == WITH_SUBJECT.fetch_row_with_orm("default", token.token_hash)


def test_missing_reverse_one_to_one_is_known_missing_without_a_query(django_assert_num_queries):
    token = AccessTokenFactory()

    with django_assert_num_queries(1):
        found = WITH_SUBJECT.get(token.token_hash)
        assert not hasattr(found.user, "oauth_subject")  # DoesNotExist, without a query
    assert WITH_SUBJECT.fetch_row("default", token.token_hash) == WITH_SUBJECT.fetch_row_with_orm(
        "default", token.token_hash
    )


def test_reverse_one_to_one_of_an_empty_foreign_key(django_assert_num_queries):
    token = AccessTokenFactory(user=None)

    with django_assert_num_queries(1):
        assert WITH_SUBJECT.get(token.token_hash).user is None


def test_only_foreign_keys_and_reverse_one_to_ones_are_joined():
    lookup = CompiledLookup(Client, "client_id", joins=[Join("accesstoken")])

    with pytest.raises(ValueError, match="accesstoken"):
        lookup.get("any")
