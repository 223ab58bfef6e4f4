"""Forms for registering clients, shared by the admin and self-service pages.

Validation of what gets stored (redirect URIs, scopes, the grant type list)
lives on the ``Client`` model, so every way of creating a client (admin, the
self-service page, ``manage.py createclient``) enforces the same rules; this
form only turns HTML input into those values and decides when a secret is due.
"""

from __future__ import annotations

from typing import Any

import django
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Client
from .models.clients import split_redirect_uris
from .settings import AUTHORIZATION_CODE, GRANT_TYPE_CHOICES, REFRESH_TOKEN, oauth_settings

# What a new client is offered when nothing is chosen yet: the flow RFC 9700
# §2.1.1 recommends for almost every client.
DEFAULT_GRANT_TYPES = [AUTHORIZATION_CODE, REFRESH_TOKEN]

# Django 5.0+ warns unless told which scheme a bare "example.com" gets; a
# client's website should be https. (4.2 has no such argument.)
_URL_FIELD_OPTIONS = {"assume_scheme": "https"} if django.VERSION >= (5, 0) else {}


def normalize_redirect_uris(value: str) -> str:
    """One URI per line, without blanks or repeats, in input order.

    Pasted lists often carry trailing spaces, blank lines or duplicates; none
    of those change what is registered, so they are dropped rather than
    reported. Inner whitespace is kept so the validator can reject it.
    """
    return "\n".join(dict.fromkeys(split_redirect_uris(value)))


def scope_choices() -> list[tuple[str, str]]:
    """(name, "name: description") for every scope the server defines now."""
    return [(name, f"{name}: {description}") for name, description in oauth_settings.SCOPES.items()]


class ClientForm(forms.ModelForm):
    """Create or edit a client (RFC 6749 §2: client type, redirect URIs).

    After ``save()``, ``new_secret`` holds the raw client secret if one was
    generated (a new confidential client, or a public client turned
    confidential); the caller must show it once, since only its hash is kept.
    """

    website = forms.URLField(
        label=_("Website"),
        required=False,
        max_length=200,
        help_text=_("Shown to users on the consent screen."),
        **_URL_FIELD_OPTIONS,
    )
    grant_types = forms.MultipleChoiceField(
        label=_("Grant types"),
        choices=GRANT_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The flows this client may use to obtain tokens."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Allowed scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unchecked to allow every scope the server defines."),
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "website",
            "client_type",
            "redirect_uris",
            "grant_types",
            "scopes",
            "skip_consent",
            "allow_introspection",
            "owner",
            "is_active",
        ]
        widgets = {
            "redirect_uris": forms.Textarea(attrs={"rows": 4, "cols": 80, "spellcheck": "false"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_secret: str | None = None
        # Computed per form so that OAUTH_PROVIDER overrides (and a grant
        # list extended after import) are what the user is offered.
        self.fields["grant_types"].choices = list(GRANT_TYPE_CHOICES)
        self.fields["scopes"].choices = scope_choices()
        if self.instance._state.adding and "grant_types" not in self.initial:
            self.initial["grant_types"] = list(DEFAULT_GRANT_TYPES)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # A browser sends a single-valued field once: a repeat is refused
        # rather than silently resolved to its last value.
        getlist = getattr(self.data, "getlist", None)
        for name, field in self.fields.items():
            multiple = getattr(field.widget, "allow_multiple_selected", False)
            if getlist is not None and not multiple and len(getlist(self.add_prefix(name))) > 1:
                self.add_error(
                    name, forms.ValidationError(_("This field was sent more than once."), code="repeated")
                )
        return cleaned

    def clean_redirect_uris(self) -> str:
        # Each URI is then checked by Client.redirect_uris' validator
        # (redirect_uris.validate_redirect_uri) during model validation.
        return normalize_redirect_uris(self.cleaned_data.get("redirect_uris") or "")

    def save(self, commit: bool = True) -> Client:
        """Save, giving a confidential client a secret if it has none.

        A public client cannot keep a secret (RFC 6749 §2.1), so any hash left
        over from when it was confidential is removed.
        """
        client: Client = super().save(commit=False)
        self.new_secret = None
        if not client.is_confidential:
            client.client_secret_hash = ""
        elif not client.client_secret_hash:
            self.new_secret = client.set_secret()
        if commit:
            client.save()
            self._save_m2m()
        return client


class OwnClientForm(ClientForm):
    """A developer's own client at /o/clients/: what a developer may decide.

    Trust (skipping consent, introspecting tokens, being active) is the
    admin's to grant, and the grant types on offer are only those the site
    offers (``OAUTH_PROVIDER["GRANT_TYPES"]``).
    """

    class Meta(ClientForm.Meta):
        fields = ["name", "website", "client_type", "redirect_uris", "grant_types", "scopes"]

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        offered = oauth_settings.GRANT_TYPES
        self.fields["grant_types"].choices = [
            (name, label) for name, label in GRANT_TYPE_CHOICES if name in offered
        ]
        if self.instance._state.adding and "grant_types" not in kwargs.get("initial", {}):
            self.initial["grant_types"] = [name for name in DEFAULT_GRANT_TYPES if name in offered]

    def full_clean(self) -> None:
        super().full_clean()
        # Tie each field's errors (and help) to its input, so a screen reader
        # reads them with it (WCAG 3.3.1); ids as in includes/field.html.
        for name in self.errors:
            if name not in self.fields:
                continue
            auto_id = self[name].auto_id
            described = [f"{auto_id}_errors"] + (
                [f"{auto_id}_helptext"] if self.fields[name].help_text else []
            )
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": " ".join(described)}
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        limit = oauth_settings.SELF_SERVICE_MAX_CLIENTS
        if (
            self.instance._state.adding
            and limit is not None
            and Client.objects.filter(owner=self.owner).count() >= limit
        ):
            raise forms.ValidationError(
                _("You have registered the most apps allowed (%(limit)d). Delete one to add another."),
                code="limit",
                params={"limit": limit},
            )
        return cleaned

    def save(self, commit: bool = True) -> Client:
        """Save; a new client belongs to its developer and, when the site
        says so, waits for an admin's approval before it can be used."""
        client = self.instance
        if client._state.adding:
            client.owner = self.owner
            if oauth_settings.SELF_SERVICE_APPROVAL_REQUIRED:
                client.is_active = False
                client.awaiting_approval = True
        return super().save(commit)
