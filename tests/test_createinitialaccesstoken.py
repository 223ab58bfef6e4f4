"""``manage.py createinitialaccesstoken`` (RFC 7591 §3 initial access tokens)."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from oauth_provider import clock
from oauth_provider.crypto import hash_secret
from oauth_provider.models import Client, InitialAccessToken
from tests.registration_helpers import metadata, post_json

pytestmark = pytest.mark.django_db


def run(*args):
    stdout, stderr = StringIO(), StringIO()
    call_command("createinitialaccesstoken", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_prints_the_token_once_and_stores_its_hash():
    stdout, _stderr = run("--description", "partner")

    value = stdout.splitlines()[0].removeprefix("initial_access_token: ")
    assert value.startswith("opia_")
    token = InitialAccessToken.objects.get()
    assert token.token_hash == hash_secret(value)
    assert (token.description, token.expires_at, token.max_uses) == ("partner", None, None)
    assert "not be shown again" in stdout


def test_json_output_expiry_and_uses(frozen_clock):
    stdout, _stderr = run("--description", "ci", "--expires-in", "3600", "--max-uses", "2", "--json")

    value = json.loads(stdout)["token"]
    token = InitialAccessToken.objects.get(token_hash=hash_secret(value))
    assert token.expires_at == clock.now() + timedelta(hours=1)
    assert token.max_uses == 2


def test_warns_when_the_policy_does_not_ask_for_tokens():
    _stdout, stderr = run("--description", "partner")

    assert "REGISTRATION_POLICY" in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--max-uses", "0"],
        ["--expires-in", "-5"],
        ["--max-uses", "x"],
        # Past datetime's range: refused like any bad number, not a traceback.
        ["--expires-in", "9" * 20],
        ["--max-uses", "9" * 20],
    ],
)
def test_refuses_bad_numbers(args):
    with pytest.raises(CommandError):
        run("--description", "partner", *args)
    assert not InitialAccessToken.objects.exists()


def test_printed_token_registers_a_client(api_client, registration_settings):
    registration_settings(REGISTRATION_POLICY="initial_access_token")
    stdout, stderr = run("--description", "partner", "--json")

    response = post_json(api_client, metadata(), HTTP_AUTHORIZATION=f"Bearer {json.loads(stdout)['token']}")

    assert stderr == ""
    assert response.status_code == 201
    assert Client.objects.count() == 1
