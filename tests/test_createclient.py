"""``manage.py createclient``: the contract in DESIGN.md (Management commands)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from oauth_provider.crypto import hash_secret
from oauth_provider.models import Client

from .factories import UserFactory

pytestmark = pytest.mark.django_db

CALLBACK = "https://app.example.com/callback"


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("createclient", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_text_output_prints_id_secret_and_warning():
    out, _err = run("--name", "Web app", "--redirect-uri", CALLBACK)

    lines = out.splitlines()
    assert lines[0].startswith("client_id: ")
    assert lines[1].startswith("client_secret: ")
    assert "will not be shown again" in lines[2]
    assert len(lines) == 3
    client = Client.objects.get(client_id=lines[0].removeprefix("client_id: "))
    secret = lines[1].removeprefix("client_secret: ")
    assert client.check_secret(secret)
    assert client.name == "Web app"
    assert client.client_type == Client.ClientType.CONFIDENTIAL
    # Defaults from the contract: authorization_code and refresh_token.
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.redirect_uri_list == [CALLBACK]


def test_json_output_is_one_object_with_working_credentials():
    out, _err = run("--name", "API", "--redirect-uri", CALLBACK, "--json")

    payload = json.loads(out)  # raises if anything else shares stdout
    assert set(payload) == {"client_id", "client_secret"}
    client = Client.objects.get(client_id=payload["client_id"])
    assert client.check_secret(payload["client_secret"])
    assert not client.check_secret(payload["client_secret"] + "x")


def test_secret_is_stored_only_as_hash():
    out, _err = run("--name", "API", "--redirect-uri", CALLBACK, "--json")
    payload = json.loads(out)

    row = Client.objects.filter(client_id=payload["client_id"]).values().get()
    assert payload["client_secret"] not in {str(value) for value in row.values()}
    assert row["client_secret_hash"] == hash_secret(payload["client_secret"])


def test_public_client_has_null_secret():
    out, _err = run("--name", "SPA", "--type", "public", "--redirect-uri", "http://127.0.0.1/cb", "--json")

    payload = json.loads(out)
    assert payload["client_secret"] is None
    client = Client.objects.get(client_id=payload["client_id"])
    assert client.client_type == Client.ClientType.PUBLIC
    assert client.client_secret_hash == ""


def test_public_client_text_output_has_no_secret_line():
    out, _err = run("--name", "SPA", "--type", "public", "--redirect-uri", "http://127.0.0.1/cb")

    assert out.startswith("client_id: ")
    assert "client_secret" not in out


def test_repeatable_options_and_flags_are_stored():
    owner = UserFactory(username="alice")
    out, _err = run(
        "--name",
        "First party",
        "--grant-type",
        "authorization_code",
        "--redirect-uri",
        CALLBACK,
        "--redirect-uri",
        "com.example.app:/cb",
        "--redirect-uri",
        CALLBACK,
        "--scope",
        "read",
        "--scope",
        "write",
        "--skip-consent",
        "--owner",
        "alice",
        "--json",
    )

    client = Client.objects.get(client_id=json.loads(out)["client_id"])
    assert client.grant_types == ["authorization_code"]
    assert client.redirect_uri_list == [CALLBACK, "com.example.app:/cb"]
    assert client.scopes == ["read", "write"]
    assert client.skip_consent is True
    assert client.owner == owner


def test_grant_type_the_server_does_not_offer_warns_on_stderr(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "GRANT_TYPES": ["authorization_code"]}

    out, err = run("--name", "API", "--redirect-uri", CALLBACK, "--json")

    json.loads(out)
    assert "refresh_token" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grant-type", "magic"], "Unknown grant type 'magic'"),
        (["--scope", "delete_everything"], "Unknown scope 'delete_everything'"),
        (["--redirect-uri", "https://app.example.com/cb#frag"], "fragment"),
        (["--redirect-uri", "http://app.example.com/cb"], "loopback"),
        (["--redirect-uri", "https://*.example.com/cb"], "Wildcards"),
        (["--redirect-uri", "/relative/cb"], "absolute"),
        (["--owner", "nobody"], "No user with username 'nobody'"),
        (["--type", "secretive"], "invalid choice"),
    ],
)
def test_bad_input_raises_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        run("--name", "Bad", "--redirect-uri", CALLBACK, *args)
    assert not Client.objects.exists()


def test_authorization_code_without_redirect_uri_is_rejected_by_the_model():
    with pytest.raises(CommandError, match=r"^--redirect-uri: .*at least one redirect URI"):
        run("--name", "No callback")
    assert not Client.objects.exists()


def test_missing_redirect_uri_with_default_grant_types_says_what_the_default_is():
    # `createclient --name X` alone: the newcomer did not choose a browser-based grant, the default did.
    with pytest.raises(CommandError) as raised:
        run("--name", "No callback")
    assert str(raised.value).splitlines()[1] == (
        "No --grant-type given: the default, authorization_code refresh_token, "
        "sends people back to a redirect URI."
    )


def test_missing_redirect_uri_with_chosen_grant_types_does_not_explain_the_default():
    with pytest.raises(CommandError) as raised:
        run("--name", "No callback", "--grant-type", "authorization_code")
    assert "No --grant-type" not in str(raised.value)


def test_blank_name_is_rejected():
    with pytest.raises(CommandError, match=r"^--name: "):
        run("--name", "", "--redirect-uri", CALLBACK)
    assert not Client.objects.exists()


def test_errors_name_the_option_not_the_model_field():
    with pytest.raises(CommandError, match=r"^--grant-type: Unknown grant type 'magic'"):
        run("--name", "Bad", "--redirect-uri", CALLBACK, "--grant-type", "magic")
    with pytest.raises(CommandError, match=r"^--scope: Unknown scope"):
        run("--name", "Bad", "--redirect-uri", CALLBACK, "--scope", "nope")


def test_missing_name_is_rejected():
    with pytest.raises(CommandError, match="--name"):
        run("--redirect-uri", CALLBACK)


def test_allow_introspection_flag_is_stored():
    out, _err = run(
        "--name", "Resource server", "--redirect-uri", CALLBACK, "--allow-introspection", "--json"
    )
    assert Client.objects.get(client_id=json.loads(out)["client_id"]).allow_introspection is True

    out, _err = run("--name", "Plain app", "--redirect-uri", CALLBACK, "--json")
    assert Client.objects.get(client_id=json.loads(out)["client_id"]).allow_introspection is False


def test_allow_introspection_on_public_client_warns_on_stderr():
    out, err = run(
        "--name", "SPA", "--type", "public", "--redirect-uri", "http://127.0.0.1/cb", "--allow-introspection"
    )
    assert "cannot authenticate" in err
    assert "Warning" not in out


# -- OpenID Connect options ---------------------------------------------------------------------


def test_openid_connect_options_are_stored(sector_document):
    sector_document.append(CALLBACK)
    out, _err = run(
        "--name",
        "Relying party",
        "--redirect-uri",
        CALLBACK,
        "--post-logout-redirect-uri",
        "https://app.example.com/signed-out",
        "--post-logout-redirect-uri",
        "com.example.app:/signed-out",
        "--post-logout-redirect-uri",
        "https://app.example.com/signed-out",
        "--backchannel-logout-uri",
        "https://app.example.com/backchannel-logout",
        "--id-token-alg",
        "ES256",
        "--subject-type",
        "pairwise",
        "--sector-identifier-uri",
        "https://app.example.com/sector.json",
        "--json",
    )

    payload = json.loads(out)
    assert set(payload) == {"client_id", "client_secret"}  # --json keeps its shape
    client = Client.objects.get(client_id=payload["client_id"])
    assert client.post_logout_redirect_uri_list == [
        "https://app.example.com/signed-out",
        "com.example.app:/signed-out",
    ]
    assert client.backchannel_logout_uri == "https://app.example.com/backchannel-logout"
    assert client.id_token_signed_response_alg == "ES256"
    assert client.subject_type == "pairwise"
    assert client.sector_identifier_uri == "https://app.example.com/sector.json"


def test_openid_connect_defaults_without_the_options(settings):
    settings.OAUTH_PROVIDER = {**settings.OAUTH_PROVIDER, "OIDC_DEFAULT_SUBJECT_TYPE": "pairwise"}

    out, _err = run("--name", "Relying party", "--redirect-uri", CALLBACK, "--json")

    client = Client.objects.get(client_id=json.loads(out)["client_id"])
    assert client.post_logout_redirect_uris == ""
    assert client.backchannel_logout_uri == ""
    assert client.id_token_signed_response_alg == "RS256"
    assert client.subject_type == "pairwise"  # OIDC_DEFAULT_SUBJECT_TYPE
    assert client.sector_identifier_uri == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--post-logout-redirect-uri", "https://app.example.com/out#x"],
            r"^--post-logout-redirect-uri: .*fragment",
        ),
        (
            ["--post-logout-redirect-uri", "http://app.example.com/out"],
            r"^--post-logout-redirect-uri: .*loopback",
        ),
        (["--backchannel-logout-uri", "ftp://app.example.com/logout"], r"^--backchannel-logout-uri: "),
        (
            ["--backchannel-logout-uri", "https://app.example.com/logout#x"],
            r"^--backchannel-logout-uri: .*fragment",
        ),
        (["--id-token-alg", "HS256"], r"^--id-token-alg: .*'HS256'"),
        (["--id-token-alg", "none"], r"^--id-token-alg: .*'none'"),
        (["--subject-type", "secret"], r"^--subject-type: .*'secret'"),
        (["--sector-identifier-uri", "not a url"], r"^--sector-identifier-uri: "),
    ],
)
def test_bad_openid_connect_options_name_the_option(args, message):
    with pytest.raises(CommandError, match=message):
        run("--name", "Bad", "--redirect-uri", CALLBACK, *args)
    assert not Client.objects.exists()
