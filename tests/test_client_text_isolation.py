"""Every page that shows text a client owner wrote isolates it, so a name
stored before names were checked (or any text that slips through) cannot
reorder the words around it: ``<bdi>`` in HTML, FSI ... PDI where markup
cannot go (titles, messages), nothing needed inside attributes."""

import re

import pytest
from django.urls import reverse

from oauth_provider.models import Client
from tests.factories import AccessTokenFactory, ClientFactory, ConsentFactory, DeviceAuthorizationFactory
from tests.helpers import authorize_url, hidden_fields

pytestmark = pytest.mark.django_db

# "Photo Printer" followed by RIGHT-TO-LEFT OVERRIDE: unisolated, whatever
# follows it on the line is shown backwards.
NAME = "Photo Printer\u202e"
WEBSITE = "https://printer.example.com/\u202e"
# Where the name is raw in the HTML: the templates that do not isolate it.
TEMPLATES = {
    "oauth_provider/authorize.html",
    "oauth_provider/device_consent.html",
    "oauth_provider/device_done.html",
    "oauth_provider/authorized_apps.html",
    "oauth_provider/consent_confirm_withdraw.html",
    "oauth_provider/client_list.html",
    "oauth_provider/client_detail.html",
    "oauth_provider/client_form.html",
    "oauth_provider/client_secret.html",
    "oauth_provider/client_confirm_secret.html",
    "oauth_provider/client_confirm_delete.html",
    "oauth_provider/logout_confirm.html",
    "oauth_provider/admin/client_secret.html",
    "admin/oauth_provider/client/approve_selected_confirmation.html",
}


def unisolated(html: str, text: str) -> list[str]:
    """Each place ``text`` appears in ``html`` outside ``<bdi>``, FSI/PDI or a tag's attributes."""
    found = []
    for match in re.finditer(re.escape(text), html):
        start, end = match.start(), match.end()
        in_bdi = html[:start].endswith("<bdi>") and html[end:].startswith("</bdi>")
        in_isolate = html[:start].endswith("\u2068") and html[end:].startswith("\u2069")
        in_tag = html.rfind("<", 0, start) > html.rfind(">", 0, start)
        if not (in_bdi or in_isolate or in_tag):
            found.append(html[max(0, start - 40) : end + 40])
    return found


@pytest.fixture
def app(user):
    # Written as a row from before the checks existed: the model would refuse it now.
    return ClientFactory(name=NAME, website=WEBSITE, owner=user, scopes=["read"])


def people_pages(client, user, app):
    client.force_login(user)
    consent = ConsentFactory(user=user, client=app)
    device_requests = [DeviceAuthorizationFactory(client=app) for _ in range(3)]
    detail = reverse("oauth_provider:client_detail", args=[app.client_id])
    pages = {
        "consent": client.get(authorize_url(app, scope="read", prompt="consent")),
        "device consent": client.post("/o/device/", {"user_code": device_requests[0].user_code}),
        "device approved": client.post(
            "/o/device/", {"user_code": device_requests[1].user_code, "action": "allow"}
        ),
        "device denied": client.post(
            "/o/device/", {"user_code": device_requests[2].user_code, "action": "deny"}
        ),
        "authorized apps": client.get(reverse("oauth_provider:authorized_apps")),
        "withdraw": client.get(reverse("oauth_provider:withdraw_consent", args=[consent.pk])),
        "client list": client.get(reverse("oauth_provider:client_list")),
        "client detail": client.get(detail),
        "client edit": client.get(reverse("oauth_provider:client_update", args=[app.client_id])),
        "confirm secret": client.get(reverse("oauth_provider:client_secret", args=[app.client_id])),
        "secret": client.post(reverse("oauth_provider:client_secret", args=[app.client_id])),
        "confirm delete": client.get(reverse("oauth_provider:client_delete", args=[app.client_id])),
        "confirm logout": client.get(reverse("oauth_provider:logout") + f"?client_id={app.client_id}"),
    }
    return pages


def test_every_page_people_see_isolates_the_clients_name_and_website(client, user, app):
    pages = people_pages(client, user, app)

    rendered = set()
    for page, response in pages.items():
        assert response.status_code == 200, page
        html = response.content.decode()
        assert NAME in html, page
        assert unisolated(html, NAME) == [], page
        assert unisolated(html, WEBSITE) == [], page
        rendered |= {template.name for template in response.templates}
    # Every template that shows a client's text, but the admin's, was rendered here.
    admin_templates = {
        "oauth_provider/admin/client_secret.html",
        "admin/oauth_provider/client/approve_selected_confirmation.html",
    }
    assert TEMPLATES - admin_templates <= rendered


def test_messages_isolate_the_name(client, user, app):
    """Messages are text: they carry the name between FSI and PDI."""
    client.force_login(user)
    consent = ConsentFactory(user=user, client=app)
    client.post(reverse("oauth_provider:withdraw_consent", args=[consent.pk]))
    withdrawn = client.get(reverse("oauth_provider:authorized_apps")).content.decode()
    client.post(reverse("oauth_provider:client_delete", args=[app.client_id]))
    deleted = client.get(reverse("oauth_provider:client_list")).content.decode()

    assert f"\u2068{NAME}\u2069 can no longer access your account." in withdrawn
    assert f"\u2068{NAME}\u2069 was deleted." in deleted
    assert unisolated(withdrawn, NAME) == unisolated(deleted, NAME) == []


def test_admin_pages_isolate_the_clients_name(admin_client, app, user):
    AccessTokenFactory(client=app, user=user)
    Client.objects.filter(pk=app.pk).update(
        awaiting_approval=True, approved_values={**app.reviewed_values(), "name": "Old name"}
    )
    pages = {
        "client list": admin_client.get(reverse("admin:oauth_provider_client_changelist")),
        "client change": admin_client.get(reverse("admin:oauth_provider_client_change", args=[app.pk])),
        "token list": admin_client.get(reverse("admin:oauth_provider_accesstoken_changelist")),
        "new secret": admin_client.post(
            reverse("admin:oauth_provider_client_changelist"),
            {"action": "regenerate_secret", "_selected_action": [app.pk]},
        ),
        "approval confirmation": admin_client.post(
            reverse("admin:oauth_provider_client_changelist"),
            {"action": "approve_selected", "_selected_action": [app.pk]},
        ),
    }

    for page, response in pages.items():
        assert response.status_code == 200, page
        html = response.content.decode()
        assert NAME in html, page
        assert unisolated(html, NAME) == [], page
        assert unisolated(html, WEBSITE) == [], page


def test_the_approval_confirmation_isolates_a_new_clients_values_and_owner(admin_client, app, user):
    user.username = NAME
    user.save()
    Client.objects.filter(pk=app.pk).update(awaiting_approval=True, is_active=False)

    response = admin_client.post(
        reverse("admin:oauth_provider_client_changelist"),
        {"action": "approve_selected", "_selected_action": [app.pk]},
    )

    html = response.content.decode()
    # The name column, the owner column and the name among the values to approve.
    assert html.count(f"<bdi>{NAME}</bdi>") == 3
    assert f"<bdi>{WEBSITE}</bdi>" in html
    assert unisolated(html, NAME) == unisolated(html, WEBSITE) == []


def test_the_changed_since_you_looked_message_isolates_the_name(admin_client, app):
    Client.objects.filter(pk=app.pk).update(awaiting_approval=True, is_active=False)
    page = admin_client.post(
        reverse("admin:oauth_provider_client_changelist"),
        {"action": "approve_selected", "_selected_action": [app.pk]},
    )
    Client.objects.filter(pk=app.pk).update(redirect_uris="https://evil.example/callback")

    response = admin_client.post(
        reverse("admin:oauth_provider_client_changelist"), hidden_fields(page), follow=True
    )

    html = response.content.decode()
    assert f"Review it again: \u2068{NAME}\u2069." in html
    assert unisolated(html, NAME) == []


def test_the_template_list_is_every_template_that_names_a_client():
    """Grep every template for the text a client owner controls."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "oauth_provider" / "templates"
    naming = {
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if re.search(r"client\.(name|website)|\{\{ uri", path.read_text())
    }
    assert naming == TEMPLATES - {"oauth_provider/device_consent.html"}
