"""Settings for the read-replica tests: ``default`` and ``primary`` are two
connections to a throwaway PostgreSQL primary and ``replica`` one to its
hot-standby streaming replica, started by ``tests.replicas.plugin``;
``router.PrimaryReplicaRouter`` sends reads to ``replica`` and writes to
``primary``.

The test database is created through ``default`` only (``MIRROR``): the
standby receives it by replication.
"""

import os

from tests.settings import *  # noqa: F403

from .plugin import PRIMARY_PORT, REPLICA_PORT


def _database(port_variable: str) -> dict:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        # Unset when the pair could not be started; then every test is skipped.
        "PORT": os.environ.get(port_variable, ""),
    }


DATABASES = {
    "default": _database(PRIMARY_PORT),
    "primary": {**_database(PRIMARY_PORT), "TEST": {"MIRROR": "default"}},
    "replica": {**_database(REPLICA_PORT), "TEST": {"MIRROR": "default"}},
}
DATABASE_ROUTERS = ["tests.replicas.router.PrimaryReplicaRouter"]
