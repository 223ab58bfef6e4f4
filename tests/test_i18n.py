"""Translations: the French catalog, pages in the visitor's language, and protocol error descriptions.

The catalog is made from inside the app, so nothing from the example project leaks into it:

    cd oauth_provider && ../.venv/bin/python ../manage.py makemessages -l fr --no-obsolete --add-location file
    ../.venv/bin/python ../manage.py compilemessages -l fr
"""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.factories import ClientFactory, ConsentFactory
from tests.helpers import REDIRECT_URI, authorize_url, missing_service, post_token, redirect_params

APP_DIR = Path(__file__).resolve().parent.parent / "oauth_provider"
PO_PATH = APP_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
FRENCH = {"headers": {"accept-language": "fr"}}

# RFC 6749 §4.1.2.1 and §5.2: "Values for the "error_description" parameter
# MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E."
ERROR_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")
# The modules whose strings become error_description in protocol responses.
PROTOCOL_MODULES = re.compile(
    r"^(errors|responses|client_auth|payload|pkce|authorization|introspection|token_lookup|views/token)\.py$"
    r"|^grants/"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")
HTML_TAG = re.compile(r"</?[a-z]+[^>]*>")


@pytest.fixture(autouse=True)
def restore_language():
    """LocaleMiddleware activates the request's language for this thread and
    never deactivates it; later tests expect the default again."""
    yield
    translation.deactivate()


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def catalog(entries):
    """(msgctxt, msgid, msgid_plural) -> translation(s) of every translated entry."""
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in entries
    }


def catalog_keys(po):
    """(msgctxt, msgid, msgid_plural) of every live entry of a .po or .pot file."""
    return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in po if not entry.obsolete}


def assert_french_page(response, *french, english):
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    page = response.content.decode()
    assert '<html lang="fr"' in page
    for text in french:
        assert text in page
    for text in english:
        assert text not in page


# -- pages follow Accept-Language (LocaleMiddleware) -----------------------------------------------


@pytest.mark.django_db
def test_consent_page_in_french(browser, oauth_client):
    response = browser.get(authorize_url(oauth_client), **FRENCH)
    name = oauth_client.name
    assert_french_page(
        response,
        f"<title>Autoriser \u2068{name}\u2069</title>",
        f"<h1><strong><bdi>{name}</bdi></strong> souhaite accéder à votre compte</h1>",
        ">Refuser</button>",
        ">Autoriser</button>",
        "Connecté en tant que",
        english=["wants to access your account", ">Deny<", "Signed in as"],
    )


@pytest.mark.django_db
def test_device_page_in_french(browser):
    response = browser.get(reverse("oauth_provider:device"), **FRENCH)
    assert_french_page(
        response,
        "<title>Connecter un appareil</title>",
        "<h1>Connecter un appareil</h1>",
        ">Continuer</button>",
        english=["Connect a device", ">Continue<"],
    )


@pytest.mark.django_db
def test_authorized_apps_page_in_french(browser, user):
    ConsentFactory(user=user)
    response = browser.get(reverse("oauth_provider:authorized_apps"), **FRENCH)
    assert_french_page(
        response,
        "<title>Applications autorisées</title>",
        "<h1>Applications autorisées</h1>",
        "Dernière utilisation",
        "Pas encore",
        "Retirer l\u2019accès</a>",
        english=["Authorized apps", "Last used", "Withdraw access"],
    )


@pytest.mark.django_db
def test_client_list_in_french(browser, user):
    ClientFactory(owner=user, is_active=False, awaiting_approval=True)
    response = browser.get(reverse("oauth_provider:client_list"), **FRENCH)
    assert_french_page(
        response,
        "<title>Vos applications</title>",
        "<h1>Vos applications</h1>",
        "Enregistrer une nouvelle application</a>",
        "En attente d\u2019approbation",
        "Identifiant client\u00a0:",
        english=["Your apps", "Register a new app", "Awaiting approval"],
    )


# -- protocol errors -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_error_page_shown_to_the_user_is_in_french(client, oauth_client):
    """Errors that are never redirected (§4.1.2.1) are told to the person: in their language."""
    response = client.get(authorize_url(oauth_client, client_id="unknown"), **FRENCH)
    assert response.status_code == 400
    page = response.content.decode()
    assert "<title>Erreur d\u2019autorisation</title>" in page
    assert "Le client est inconnu ou inactif." in page


def test_english_error_descriptions_fit_the_rfc_character_set():
    """The source strings that can become error_description are ASCII without '"' or '\\'."""
    descriptions = [
        entry.msgid
        for entry in polib.pofile(str(PO_PATH))
        if any(PROTOCOL_MODULES.search(path) for path, _line in entry.occurrences)
    ]
    assert "The user denied the request." in descriptions
    assert [text for text in descriptions if not ERROR_DESCRIPTION.fullmatch(text)] == []


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["authorize", "token"])
def test_error_description_stays_within_the_rfc_character_set(browser, api_client, oauth_client, endpoint):
    if endpoint == "authorize":
        # The French-speaking user presses "Refuser": access_denied goes back to the client.
        response = browser.post(authorize_url(oauth_client), {"action": "deny"}, **FRENCH)
        params = redirect_params(response)
    else:
        data = {"grant_type": "authorization_code", "code": "unknown", "redirect_uri": REDIRECT_URI}
        data |= {"client_id": oauth_client.client_id, "client_secret": oauth_client.secret}
        params = post_token(api_client, data, HTTP_ACCEPT_LANGUAGE="fr").json()
    assert params["error"] in {"access_denied", "invalid_grant"}
    assert ERROR_DESCRIPTION.fullmatch(params["error_description"]), params["error_description"]


# -- the catalog --------------------------------------------------------------------------------------


def test_every_entry_is_translated():
    po = polib.pofile(str(PO_PATH))
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "fr"
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert [entry.msgid for entry in po.obsolete_entries()] == []


def test_translations_keep_placeholders_and_html_tags():
    for entry in polib.pofile(str(PO_PATH)):
        # French form 0 is the singular (n = 0 or 1); the others render the plural.
        if entry.msgid_plural:
            pairs = [
                (text, entry.msgid if form == 0 else entry.msgid_plural)
                for form, text in entry.msgstr_plural.items()
            ]
        else:
            pairs = [(entry.msgstr, entry.msgid)]
        for text, source in pairs:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), entry.msgid
            assert [tag.split()[0] for tag in HTML_TAG.findall(text)] == [
                tag.split()[0] for tag in HTML_TAG.findall(source)
            ], entry.msgid


def test_committed_mo_matches_the_po(tmp_path):
    po = polib.pofile(str(PO_PATH))
    fresh = tmp_path / "django.mo"
    po.save_as_mofile(str(fresh))
    committed = polib.mofile(str(MO_PATH))
    assert committed.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]
    assert catalog(committed) == catalog(polib.mofile(str(fresh))), "run compilemessages -l fr"


def test_po_is_up_to_date_with_the_source(tmp_path, monkeypatch):
    """makemessages on a copy of the app finds no string the committed catalog lacks."""
    tools = ["xgettext", "msguniq", "msgmerge", "msgattrib"]
    missing_tools = [tool for tool in tools if shutil.which(tool) is None]
    if missing_tools:
        missing_service(f"GNU gettext is not installed (no {', '.join(missing_tools)})")
    copy = tmp_path / "oauth_provider"
    shutil.copytree(APP_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["fr"], keep_pot=True, no_obsolete=True, verbosity=0)
    source = catalog_keys(polib.pofile(str(copy / "locale" / "django.pot")))
    committed = catalog_keys(polib.pofile(str(PO_PATH)))
    fix = "makemessages (see the top of this file)"
    assert sorted(source - committed, key=str) == [], f"new strings: run {fix}, translate, compilemessages"
    assert sorted(committed - source, key=str) == [], f"strings gone from the source: run {fix}"
