"""Forms for registering clients, shared by the admin and self-service pages.

Validation of what gets stored (redirect URIs, the name and website, scopes,
the grant type list) lives on the ``Client`` model, so every way of creating a
client (admin, the self-service page, ``manage.py createclient``) enforces the
same rules; these forms turn HTML input into those values, decide when a
secret is due, and decide what each kind of user may choose: privileged scopes
and legacy grants are an admin's to give, and a developer's change to an
approved client sends it back to review.
"""

from __future__ import annotations

from typing import Any

import django
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Client
from .redirect_uris import split_redirect_uris
from .scopes import description, privileged_scopes
from .settings import (
    AUTHORIZATION_CODE,
    GRANT_TYPE_CHOICES,
    LEGACY_GRANT_TYPES,
    REFRESH_TOKEN,
    oauth_settings,
)

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


def scope_choices(*, privileged: bool) -> list[tuple[str, str]]:
    """(name, "name: description") for every scope the server defines now;
    privileged ones marked as such, or left out when ``privileged`` is False."""
    marked = privileged_scopes()
    choices = []
    for name in oauth_settings.SCOPES:
        label = f"{name}: {description(name)}"
        if name in marked:
            if not privileged:
                continue
            label = _("%(scope)s (privileged)") % {"scope": label}
        choices.append((name, label))
    return choices


def grant_type_choices(offered: Any, current: list[str]) -> list[tuple[str, Any]]:
    """The grant types in ``offered``, plus those the client already has, so
    that saving a form never drops one silently."""
    return [(name, label) for name, label in GRANT_TYPE_CHOICES if name in offered or name in current]


# What a client's developer decides: all of the self-service form, and the
# admin's besides what only an admin decides (trust, ownership, activity).
DEVELOPER_FIELDS = [
    "name",
    "website",
    "client_type",
    "redirect_uris",
    "allowed_origins",
    "grant_types",
    "scopes",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "id_token_signed_response_alg",
    "subject_type",
    "sector_identifier_uri",
]


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
    sector_identifier_uri = forms.URLField(
        label=_("Sector identifier URI"),
        required=False,
        max_length=512,
        help_text=Client._meta.get_field("sector_identifier_uri").help_text,
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
        help_text=_("Leave all unchecked to allow every scope except the privileged ones."),
    )

    class Meta:
        model = Client
        fields = [
            *DEVELOPER_FIELDS,
            "access_token_format",
            "skip_consent",
            "allow_introspection",
            "owner",
            "is_active",
        ]
        widgets = {
            "redirect_uris": forms.Textarea(attrs={"rows": 4, "cols": 80, "spellcheck": "false"}),
            "allowed_origins": forms.Textarea(attrs={"rows": 2, "cols": 80, "spellcheck": "false"}),
            "post_logout_redirect_uris": forms.Textarea(attrs={"rows": 2, "cols": 80, "spellcheck": "false"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_secret: str | None = None
        # Computed per form so that OAUTH_PROVIDER overrides are what the
        # user is offered: grant types the site has enabled (a new one would
        # not work; the admin's save warns about those kept from before).
        self.fields["grant_types"].choices = grant_type_choices(
            oauth_settings.GRANT_TYPES, self.instance.grant_types
        )
        self.fields["scopes"].choices = scope_choices(privileged=True)
        # Left out of a post (an older form, a script): the model's default.
        for name in ("id_token_signed_response_alg", "subject_type", "access_token_format"):
            if name in self.fields:
                self.fields[name].required = False
        if self.instance._state.adding and "grant_types" not in self.initial:
            self.initial["grant_types"] = [
                name for name in DEFAULT_GRANT_TYPES if name in oauth_settings.GRANT_TYPES
            ]

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

    def clean_allowed_origins(self) -> str:
        # Each origin is then checked by cors.validate_allowed_origins.
        return normalize_redirect_uris(self.cleaned_data.get("allowed_origins") or "")

    def clean_id_token_signed_response_alg(self) -> str:
        return self._or_default("id_token_signed_response_alg")

    def clean_subject_type(self) -> str:
        return self._or_default("subject_type")

    def clean_access_token_format(self) -> str:
        return self._or_default("access_token_format")

    def _or_default(self, name: str) -> str:
        value = self.cleaned_data.get(name)
        if value:
            return value
        return getattr(self.instance, name) or Client._meta.get_field(name).get_default()

    def clean_post_logout_redirect_uris(self) -> str:
        return normalize_redirect_uris(self.cleaned_data.get("post_logout_redirect_uris") or "")

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

    Trust is the admin's to grant: skipping consent, introspecting tokens,
    being active, privileged scopes (``scopes.privileged_scopes``) and the
    legacy grants (password, implicit) are not offered, and a value outside
    the choices is refused. What an admin gave the client of those is kept
    when its developer saves. The grant types on offer are those the site
    offers (``OAUTH_PROVIDER["GRANT_TYPES"]``).

    With ``SELF_SERVICE_APPROVAL_REQUIRED``, a new client waits for an
    admin's approval, and so does a change to any of ``REVIEWED_FIELDS`` of
    an approved one (``Client.request_review``).
    """

    class Meta(ClientForm.Meta):
        fields = DEVELOPER_FIELDS

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        if self.instance._state.adding:
            # Before validation, which fetches a sector identifier URI for an
            # owned client from public addresses only (outbound).
            self.instance.owner = owner
        # Before the form writes into the instance: what a review compares against.
        self.stored_values = None if self.instance._state.adding else self.instance.reviewed_values()
        offered = [name for name in oauth_settings.GRANT_TYPES if name not in LEGACY_GRANT_TYPES]
        self.fields["grant_types"].choices = grant_type_choices(offered, [])
        self.fields["scopes"].choices = scope_choices(privileged=False)
        self.fields["scopes"].help_text = _("Leave all unchecked to allow every scope listed here.")
        if self.instance._state.adding and "grant_types" not in kwargs.get("initial", {}):
            self.initial["grant_types"] = [name for name in DEFAULT_GRANT_TYPES if name in offered]

    def _kept(self, name: str, known: Any) -> list[str]:
        """The values of list field ``name`` the client has that are not offered
        here but still exist (``known``): what an admin gave it."""
        offered = {value for value, _label in self.fields[name].choices}
        return [value for value in getattr(self.instance, name) if value not in offered and value in known]

    def clean_grant_types(self) -> list[str]:
        known = [name for name, _label in GRANT_TYPE_CHOICES]
        return [*self._kept("grant_types", known), *self.cleaned_data["grant_types"]]

    def clean_scopes(self) -> list[str]:
        return [*self._kept("scopes", oauth_settings.SCOPES), *self.cleaned_data["scopes"]]

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
            if oauth_settings.SELF_SERVICE_APPROVAL_REQUIRED:
                client.is_active = False
                client.awaiting_approval = True
        elif oauth_settings.SELF_SERVICE_APPROVAL_REQUIRED and self.stored_values is not None:
            client.request_review(self.stored_values)
        return super().save(commit)
