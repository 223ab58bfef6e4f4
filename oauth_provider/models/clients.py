from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..crypto import (
    CLIENT_SECRET_PREFIX,
    generate_client_id,
    generate_token,
    hash_secret,
    secrets_match,
)
from ..redirect_uris import validate_redirect_uri
from ..settings import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, GRANT_TYPE_CHOICES, IMPLICIT, oauth_settings


def split_redirect_uris(value: str) -> list[str]:
    """The URIs of a one-per-line list, without blank lines."""
    return [line.strip() for line in value.splitlines() if line.strip()]


def validate_redirect_uris(value: str) -> None:
    errors = []
    for uri in split_redirect_uris(value):
        try:
            validate_redirect_uri(uri)
        except ValidationError as error:
            errors.extend(f"{uri}: {message}" for message in error.messages)
    if errors:
        raise ValidationError(errors)


def _unknown(values: object, known: Iterable[str]) -> str | None:
    """The values of a JSON list field that are not ``known``, quoted; None if all are."""
    if not isinstance(values, list):
        return repr(values)
    unknown = [value for value in values if not isinstance(value, str) or value not in known]
    return ", ".join(map(repr, unknown)) or None


class Client(models.Model):
    """A registered client application (RFC 6749 §2)."""

    class ClientType(models.TextChoices):
        # §2.1: confidential clients can keep a secret; public ones (SPAs,
        # native apps) cannot and authenticate with PKCE instead.
        CONFIDENTIAL = "confidential", _("Confidential (a server that can keep a secret)")
        PUBLIC = "public", _("Public (browser or native app; no secret)")

    client_id = models.CharField(
        _("client ID"), max_length=100, unique=True, default=generate_client_id, editable=False
    )
    client_secret_hash = models.CharField(_("client secret hash"), max_length=64, blank=True, editable=False)
    name = models.CharField(_("name"), max_length=255)
    website = models.URLField(_("website"), blank=True)
    client_type = models.CharField(
        _("client type"), max_length=20, choices=ClientType.choices, default=ClientType.CONFIDENTIAL
    )
    redirect_uris = models.TextField(
        _("redirect URIs"),
        blank=True,
        validators=[validate_redirect_uris],
        help_text=_("One per line. Requests must match one exactly."),
    )
    grant_types = models.JSONField(_("grant types"), default=list, blank=True)
    scopes = models.JSONField(
        _("allowed scopes"),
        default=list,
        blank=True,
        help_text=_("Leave empty to allow every scope the server defines."),
    )
    allow_introspection = models.BooleanField(
        _("may introspect tokens"),
        default=False,
        help_text=_("Resource servers only: lets this client ask whether any token is active (RFC 7662)."),
    )
    skip_consent = models.BooleanField(
        _("skip consent"),
        default=False,
        help_text=_("First-party apps only: users are not asked to approve."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="oauth_clients",
        verbose_name=_("owner"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set on clients users register themselves while SELF_SERVICE_APPROVAL_REQUIRED
    # is on; such a client stays inactive until an admin approves it.
    awaiting_approval = models.BooleanField(_("awaiting approval"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_confidential(self) -> bool:
        return self.client_type == self.ClientType.CONFIDENTIAL

    @property
    def redirect_uri_list(self) -> list[str]:
        return split_redirect_uris(self.redirect_uris)

    @property
    def grant_type_labels(self) -> list[str]:
        """Human names of the client's grant types, in the order stored."""
        labels = dict(GRANT_TYPE_CHOICES)
        return [str(labels.get(name, name)) for name in self.grant_types]

    def approve(self) -> None:
        """An admin's approval of a self-registered client: it becomes usable."""
        self.awaiting_approval = False
        self.is_active = True

    def set_secret(self) -> str:
        """Give the client a new secret; return it. Only its hash is kept."""
        secret = generate_token(CLIENT_SECRET_PREFIX)
        self.client_secret_hash = hash_secret(secret)
        return secret

    def check_secret(self, secret: str) -> bool:
        return bool(self.client_secret_hash) and secrets_match(secret, self.client_secret_hash)

    def allows_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types and grant_type in oauth_settings.GRANT_TYPES

    def clean(self) -> None:
        """The one place a client's lists are checked (admin, forms and createclient all call it)."""
        errors = {}
        unknown_scopes = _unknown(self.scopes, oauth_settings.SCOPES)
        if unknown_scopes is not None:
            errors["scopes"] = _("Unknown scope %(unknown)s. Scopes the server defines: %(known)s.") % {
                "unknown": unknown_scopes,
                "known": ", ".join(oauth_settings.SCOPES),
            }
        known_grant_types = [name for name, _label in GRANT_TYPE_CHOICES]
        unknown_grant_types = _unknown(self.grant_types, known_grant_types)
        if unknown_grant_types is not None:
            errors["grant_types"] = _("Unknown grant type %(unknown)s. Known grant types: %(known)s.") % {
                "unknown": unknown_grant_types,
                "known": ", ".join(known_grant_types),
            }
        if errors:
            raise ValidationError(errors)
        if CLIENT_CREDENTIALS in self.grant_types and not self.is_confidential:
            # RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
            errors["grant_types"] = _("Only confidential clients may use the client credentials grant.")
        if (
            AUTHORIZATION_CODE in self.grant_types or IMPLICIT in self.grant_types
        ) and not self.redirect_uri_list:
            errors["redirect_uris"] = _("Browser-based grants need at least one redirect URI.")
        if errors:
            raise ValidationError(errors)
