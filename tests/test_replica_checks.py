"""The system check of database routing (replicas: ``tests/replicas``)."""

from django.test import override_settings

from oauth_provider.checks import check_write_routing


class TokensElsewhere:
    """Writes tokens to one database and everything else to another."""

    def db_for_write(self, model, **hints):
        return "tokens" if model._meta.model_name in {"accesstoken", "refreshtoken"} else "default"


class ReadsFromReplica:
    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"


def test_writes_routed_to_more_than_one_database_are_an_error():
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.TokensElsewhere"]):
        (error,) = check_write_routing()
    assert error.id == "oauth_provider.E045"
    assert "'tokens': oauth_provider.AccessToken, oauth_provider.RefreshToken" in error.msg


def test_reads_from_a_replica_and_writes_to_one_database_pass():
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.ReadsFromReplica"]):
        assert check_write_routing() == []


def test_no_routers_pass():
    assert check_write_routing() == []
