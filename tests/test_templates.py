"""The people-facing templates: one base, labelled fields, readable contrast."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse

from tests.factories import ClientFactory, ConsentFactory, DeviceAuthorizationFactory
from tests.helpers import authorize_url

TEMPLATES = Path(__file__).resolve().parents[1] / "oauth_provider" / "templates" / "oauth_provider"
BASE = TEMPLATES / "base.html"


def page_templates():
    return sorted(
        path.name for path in TEMPLATES.glob("*.html") if path.name not in {"base.html", "account_base.html"}
    )


@pytest.mark.parametrize("name", page_templates())
def test_every_page_extends_the_one_base(name):
    template = engines["django"].get_template(f"oauth_provider/{name}")
    chain, node = [], template.template
    while True:
        extends = [n for n in node.nodelist if n.__class__.__name__ == "ExtendsNode"]
        if not extends:
            break
        parent = extends[0].parent_name.resolve({})
        chain.append(parent)
        node = engines["django"].get_template(parent).template
    assert chain[-1] == "oauth_provider/base.html", chain


# -- contrast (WCAG 2.x relative luminance) -----------------------------------------------------


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def colours() -> dict[str, str]:
    css = BASE.read_text()
    return dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))


@pytest.mark.parametrize(
    "foreground, background",
    [
        ("ink", "#ffffff"),
        ("muted", "#ffffff"),
        ("muted", "soft"),
        ("accent", "#ffffff"),  # links
        ("#ffffff", "accent"),  # primary buttons
        ("#ffffff", "danger"),  # destructive buttons
        ("danger", "#ffffff"),  # error text
        ("ok", "#dafbe1"),  # messages
        ("#0a3069", "#ddf4ff"),  # "new" badge
        ("#4d2d00", "#fff8c5"),  # "allowed before" badge
        ("#82071e", "#ffebe9"),  # "disabled" badge
    ],
)
def test_text_contrast_meets_wcag_aa(foreground, background):
    palette = colours()
    resolve = lambda value: value if value.startswith("#") else palette[value]  # noqa: E731
    assert contrast(resolve(foreground), resolve(background)) >= 4.5


# -- every field has a label ----------------------------------------------------------------------


class Fields(HTMLParser):
    """Form controls a person fills in, and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.labelled: set[str] = set()
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.labelled.add(attrs["for"])
        elif tag in {"input", "textarea", "select"} and attrs.get("type") not in {"hidden", "submit"}:
            self.controls.append({**attrs, "_inside_label": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def unlabelled(html: str) -> list[dict]:
    parser = Fields()
    parser.feed(html)
    return [
        control
        for control in parser.controls
        if not (control["_inside_label"] or control.get("id") in parser.labelled or control.get("aria-label"))
    ]


@pytest.mark.django_db
def test_every_field_on_every_page_has_a_label(client, user):
    client.force_login(user)
    app = ClientFactory(owner=user)
    consent = ConsentFactory(user=user)
    device = DeviceAuthorizationFactory()
    pages = {
        "consent": client.get(authorize_url(ClientFactory(), scope="read write")),
        "device": client.get("/o/device/"),
        "device consent": client.post("/o/device/", {"user_code": device.user_code}),
        "authorized apps": client.get(reverse("oauth_provider:authorized_apps")),
        "withdraw": client.get(reverse("oauth_provider:withdraw_consent", args=[consent.pk])),
        "clients": client.get(reverse("oauth_provider:client_list")),
        "register": client.get(reverse("oauth_provider:client_create")),
        "register with errors": client.post(reverse("oauth_provider:client_create"), {"name": ""}),
        "edit": client.get(reverse("oauth_provider:client_update", args=[app.client_id])),
        "detail": client.get(reverse("oauth_provider:client_detail", args=[app.client_id])),
        "secret": client.post(reverse("oauth_provider:client_secret", args=[app.client_id])),
        "confirm logout": client.get(reverse("oauth_provider:logout") + f"?client_id={app.client_id}"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        assert unlabelled(html) == [], name
        assert '<html lang="' in html, name


@pytest.mark.django_db
def test_form_errors_are_announced_and_tied_to_their_field(client, user):
    client.force_login(user)
    html = client.post(reverse("oauth_provider:client_create"), {"name": ""}).content.decode()
    assert '<ul class="errorlist" id="id_name_errors" role="alert">' in html
    [name_input] = re.findall(r"<input[^>]*name=\"name\"[^>]*>", html)
    assert 'aria-invalid="true"' in name_input
    assert 'aria-describedby="id_name_errors"' in name_input
