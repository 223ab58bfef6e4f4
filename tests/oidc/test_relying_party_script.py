"""The README's tiny relying party (``example_project/relying_party.py``)
signs in through the example site: run as a real process against the live
server, with ``requests`` playing the person's browser (login, consent, then
following the redirect to the script's loopback port)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from oauth_provider.settings import AUTHORIZATION_CODE
from tests.factories import PublicClientFactory

from .support import TIMEOUT

pytestmark = pytest.mark.usefixtures("transactional_db")

SCRIPT = Path(__file__).resolve().parents[2] / "example_project" / "relying_party.py"
SIGN_IN_LINE = "Sign in at: "


def test_tiny_relying_party_signs_in_and_prints_verified_claims(op, person, user_agent):
    # As the README registers it: a public client on a loopback redirect URI, any port.
    client = PublicClientFactory(
        name="Tiny relying party", redirect_uris="http://127.0.0.1/callback", grant_types=[AUTHORIZATION_CODE]
    )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(SCRIPT), "--issuer", op.url, "--client-id", client.client_id, "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(SIGN_IN_LINE), line + process.stderr.read()
        arrival = user_agent.visit(line.removeprefix(SIGN_IN_LINE).strip())
        assert arrival.pages == ["login", "consent"]
        assert arrival.url.startswith("http://127.0.0.1:")
        # The browser follows the redirect to the script's loopback server.
        assert requests.get(arrival.url, timeout=TIMEOUT).status_code == 200
        output, errors = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, errors
    summary, _, claims = output.partition("\n")
    assert summary == f"Signed in as {person.username}."
    result = json.loads(claims)
    assert result["id_token"]["iss"] == op.url
    assert result["id_token"]["aud"] in (client.client_id, [client.client_id])
    assert result["id_token"]["nonce"]
    assert result["userinfo"]["sub"] == result["id_token"]["sub"]
    assert result["userinfo"]["email"] == "ada@example.com"
