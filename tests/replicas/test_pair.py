import pytest
from django.db import DatabaseError, connections

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_the_replica_is_a_hot_standby_that_refuses_writes(replication):
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
        with pytest.raises(DatabaseError, match="read-only transaction"):
            cursor.execute("CREATE TABLE refused (id integer)")
