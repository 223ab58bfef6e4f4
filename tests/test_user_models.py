"""The app works with every user model shape Django supports.

AUTH_USER_MODEL cannot change within one process, so each shape runs
``tests/user_models/test_flow.py`` (the authorization code flow, refresh,
revocation and introspection, with the token cache off and on) in a pytest
subprocess with its own settings module, on the same database engine as this
run (``DATABASE_URL``). The default ``auth.User`` runs that file in this process.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "shape",
    [
        "custom",  # a swapped AbstractUser subclass with its own table name
        "email",  # AbstractBaseUser: email USERNAME_FIELD, from_db_value primary key "account_number"
        "mti",  # multi-table inheritance: Member(Person), the password in the parent's table
    ],
)
def test_user_model_shape(shape):
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--ds=tests.user_models.settings_{shape}",
        "tests/user_models/test_flow.py",
    ]
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert " passed" in output and " skipped" not in output, output
