"""What a client owner may register, the same at every entry point (admin,
self-service, ``createclient``): names and websites people read cannot lie,
redirect URIs cannot mislead, and a client's URI list is bounded."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from oauth_provider.management.commands.createclient import OPTION_OF_FIELD
from oauth_provider.models import Client
from oauth_provider.redirect_uris import MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS
from oauth_provider.text import validate_display_text, validate_website

pytestmark = pytest.mark.django_db

CALLBACK = "https://app.example.com/callback"

# Each kind of misleading name: the text people would read on the consent screen.
BAD_NAMES = {
    "bidi override": "Photo Printer\u202e",
    "bidi embedding": "\u202bPhoto Printer",
    "bidi isolate": "Photo \u2066Printer",
    "right-to-left mark": "Photo\u200fPrinter",
    "zero-width space": "Photo\u200bPrinter",
    "zero-width joiner": "Photo\u200dPrinter",
    "byte order mark": "\ufeffPhoto Printer",
    "soft hyphen": "Pho\u00adto Printer",
    "control character": "Photo\x07Printer",
    "newline": "Photo\nPrinter",
    "line separator": "Photo\u2028Printer",
    "private use": "Photo\ue000Printer",
    "blank": "   ",
    "only invisible": "\u200b",
    # Drawn as nothing: Default_Ignorable_Code_Point letters and marks, the braille blank.
    "Hangul filler": "Photo\u3164Printer",
    "only Hangul fillers": "\u115f\u1160\uffa0",
    "combining grapheme joiner": "Photo\u034fPrinter",
    "braille blank": "\u2800",
}
BAD_WEBSITES = {
    "userinfo": "https://printer.example.com@evil.example",
    "backslash": "https://evil.example\\@printer.example.com",
    "non-ASCII host": "https://pr\u00efnter.example.com",
    "bidi override": "https://printer.example.com/\u202e",
    "uppercase host": "https://paypaI.example",
    "not http": "ftp://printer.example.com",
}
BAD_REDIRECT_URIS = {
    "userinfo": "https://app.example.com@evil.example/cb",
    "backslash": "https://evil.example\\@app.example.com/cb",
    "non-ASCII host": "https://\u0430pp.example.com/cb",
    "non-ASCII path": "https://app.example.com/caf\u00e9",
    "bidi override": "https://app.example.com/cb\u202e",
    "private-use scheme without a domain": "a.b:",
    "private-use scheme with one-letter domain": "x.y:/cb",
    "private-use scheme without a path": "com.example.app:cb",
    "uppercase scheme": "Com.Example.App:/cb",
    "uppercase host": "https://App.example.com/cb",
    "character outside RFC 3986": "https://app.example.com/c<b>",
    "malformed percent-encoding": "https://app.example.com/%zz",
    "host that is no host name": "https://app_example.com/cb",
    "too long": "https://app.example.com/" + "a" * MAX_REDIRECT_URI_LENGTH,
    "too many": "\n".join(f"https://app.example.com/{n}" for n in range(MAX_REDIRECT_URIS + 1)),
}
CASES = (
    [("name", kind, value) for kind, value in BAD_NAMES.items()]
    + [("website", kind, value) for kind, value in BAD_WEBSITES.items()]
    + [("redirect_uris", kind, value) for kind, value in BAD_REDIRECT_URIS.items()]
)
CASE_IDS = [f"{field}-{kind}" for field, kind, _value in CASES]


def registration(**overrides):
    return {
        "name": "Photo Printer",
        "website": "https://printer.example.com",
        "client_type": "confidential",
        "redirect_uris": CALLBACK,
        "grant_types": ["authorization_code", "refresh_token"],
        **overrides,
    }


@pytest.mark.parametrize(("field", "kind", "value"), CASES, ids=CASE_IDS)
def test_the_admin_form_refuses(admin_client, field, kind, value):
    response = admin_client.post(
        reverse("admin:oauth_provider_client_add"), {**registration(**{field: value}), "is_active": "on"}
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Client.objects.exists()


@pytest.mark.parametrize(("field", "kind", "value"), CASES, ids=CASE_IDS)
def test_the_self_service_form_refuses(client, user, field, kind, value):
    client.force_login(user)

    response = client.post(reverse("oauth_provider:client_create"), registration(**{field: value}))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Client.objects.exists()


# createclient registers no website.
CLI_CASES = [case for case in CASES if case[0] != "website"]


@pytest.mark.parametrize(("field", "kind", "value"), CLI_CASES, ids=[f"{f}-{k}" for f, k, _v in CLI_CASES])
def test_createclient_refuses(field, kind, value):
    data = registration(**{field: value})
    args = ["--name", data["name"], *(f"--redirect-uri={uri}" for uri in data["redirect_uris"].split("\n"))]

    # The error names the option that sets the field (--name, --redirect-uri).
    with pytest.raises(CommandError, match=f"^{OPTION_OF_FIELD[field]}: "):
        call_command("createclient", *args, stdout=StringIO(), stderr=StringIO())
    assert not Client.objects.exists()


@pytest.mark.parametrize("kind", ["bidi override", "control character", "byte order mark"])
def test_an_error_never_repeats_a_refused_uri_raw(client, user, kind):
    """A refused URI is named in the error with its hidden characters escaped."""
    client.force_login(user)
    uri = {
        "bidi override": "https://app.example.com/cb\u202e",
        "byte order mark": "https://app.example.com/\ufeff",
    }.get(kind, "https://app.example.com/\x07cb")

    errors = (
        client.post(reverse("oauth_provider:client_create"), registration(redirect_uris=uri))
        .context["form"]
        .errors["redirect_uris"]
    )

    assert all(char not in " ".join(errors) for char in "\u202e\ufeff\x07")
    assert "\\u202e" in errors[0] or "\\ufeff" in errors[0] or "\\x07" in errors[0]


def test_a_non_ascii_host_is_refused_with_its_punycode_form():
    client = Client(
        name="App", redirect_uris="https://b\u00fccher.example/cb", grant_types=["authorization_code"]
    )
    with pytest.raises(ValidationError) as excinfo:
        client.full_clean()
    assert "xn--bcher-kva.example" in str(excinfo.value)


def test_the_punycode_form_is_accepted_and_shown_as_such(client, user):
    own = Client.objects.create(
        name="App",
        owner=user,
        redirect_uris="https://xn--bcher-kva.example/cb",
        grant_types=["authorization_code"],
    )
    own.full_clean()
    client.force_login(user)

    page = client.get(reverse("oauth_provider:client_detail", args=[own.client_id])).content.decode()

    assert "https://xn--bcher-kva.example/cb" in page


@pytest.mark.parametrize(
    "value",
    [
        "Photo Printer",
        "Fotodrucker für Ämter",
        "\u05de\u05d3\u05e4\u05e1\u05ea",  # Hebrew: right-to-left text is fine, only overrides are not
        "\u30d5\u30a9\u30c8",
        "App\u00a0Name",  # no-break space (Zs)
    ],
)
def test_ordinary_names_in_any_script_are_accepted(value):
    validate_display_text(value)


@pytest.mark.parametrize(
    "value",
    ["", "https://printer.example.com", "http://127.0.0.1:8000/", "https://xn--bcher-kva.example/about?x=1"],
)
def test_ordinary_websites_are_accepted(value):
    validate_website(value)


def test_the_limits_are_inclusive():
    uris = "\n".join(f"https://app.example.com/{n}" for n in range(MAX_REDIRECT_URIS))
    longest = "https://app.example.com/" + "a" * (MAX_REDIRECT_URI_LENGTH - len("https://app.example.com/"))
    Client(name="App", redirect_uris=uris, grant_types=["authorization_code"]).full_clean()
    Client(name="App", redirect_uris=longest, grant_types=["authorization_code"]).full_clean()


def test_fifty_thousand_uris_get_one_error(client, user):
    client.force_login(user)
    uris = "\n".join(f"https://app.example.com/{n}" for n in range(50_000))

    errors = (
        client.post(reverse("oauth_provider:client_create"), registration(redirect_uris=uris))
        .context["form"]
        .errors["redirect_uris"]
    )

    assert errors == [f"Register at most {MAX_REDIRECT_URIS} redirect URIs."]
