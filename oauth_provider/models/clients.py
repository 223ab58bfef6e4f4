from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from .. import cors, outbound, primary, sector_identifiers
from ..crypto import (
    CLIENT_SECRET_PREFIX,
    REGISTRATION_ACCESS_TOKEN_PREFIX,
    generate_client_id,
    generate_token,
    hash_secret,
    secrets_match,
)
from ..redirect_uris import split_redirect_uris, validate_backchannel_logout_uri, validate_redirect_uris
from ..settings import (
    ACCESS_TOKEN_FORMAT_CHOICES,
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    DEVICE_CODE,
    GRANT_TYPE_CHOICES,
    IMPLICIT,
    OPAQUE,
    REFRESH_TOKEN,
    oauth_settings,
)
from ..text import isolate, validate_display_text, validate_website
from .keys import SigningKey

# What users see, where their codes go, and where the server itself sends
# requests: a self-service change to any of these sends an approved client
# back to an admin's review (with SELF_SERVICE_APPROVAL_REQUIRED). A new
# field users read, or a URL the server calls, belongs here too.
REVIEWED_FIELDS = (
    "name",
    "website",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "sector_identifier_uri",
    "client_type",
    "grant_types",
    "scopes",
    # Which web pages may read the client's tokens (cors.client_origins),
    # as much a destination of its credentials as a redirect URI.
    "allowed_origins",
)
# Clients an administrator registered (admin, createclient): no owner, not
# self-registered (RFC 7591), not described by a metadata document, which
# anyone may publish. ``Client.registered_by_admin`` says it of one client.
REGISTERED_BY_ADMIN = models.Q(
    owner__isnull=True, registration_access_token_hash="", metadata_document_fetched_at__isnull=True
)
# The grants that only redeem what a user authorized earlier (a code, a
# refresh token, an approved device request): the ones a client under review
# keeps. Client credentials and password would be new authorizations.
REDEEMING_GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE)


class SubjectType(models.TextChoices):
    """OpenID Connect Core 1.0 §8: the ``sub`` a client sees."""

    PUBLIC = "public", _("Public (the same identifier for every client)")
    PAIRWISE = "pairwise", _("Pairwise (a different identifier for each sector)")


def default_subject_type() -> str:
    return oauth_settings.OIDC_DEFAULT_SUBJECT_TYPE


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

    SubjectType = SubjectType

    client_id = models.CharField(
        # 255: room for an https URL naming a client ID metadata document (payload.MAX_LENGTHS).
        _("client ID"),
        max_length=255,
        unique=True,
        default=generate_client_id,
        editable=False,
    )
    client_secret_hash = models.CharField(_("client secret hash"), max_length=64, blank=True, editable=False)
    name = models.CharField(_("name"), max_length=255, validators=[validate_display_text])
    website = models.URLField(_("website"), blank=True, validators=[validate_website])
    client_type = models.CharField(
        _("client type"), max_length=20, choices=ClientType.choices, default=ClientType.CONFIDENTIAL
    )
    redirect_uris = models.TextField(
        _("redirect URIs"),
        blank=True,
        validators=[validate_redirect_uris],
        help_text=_("One per line. Requests must match one exactly."),
    )
    # Besides the origins of its redirect URIs (cors.origin_of).
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        validators=[cors.validate_allowed_origins],
        help_text=_(
            "One per line, such as https://app.example.com: web pages there may call the token and "
            "revocation endpoints. The origins of the redirect URIs are allowed without being listed."
        ),
    )
    grant_types = models.JSONField(_("grant types"), default=list, blank=True)
    scopes = models.JSONField(
        _("allowed scopes"),
        default=list,
        blank=True,
        help_text=_("Leave empty to allow every scope except the privileged ones."),
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
    # OpenID Connect: RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0
    # §2.2, Core §8 (subject_type) and Registration 1.0 §2 (the rest).
    post_logout_redirect_uris = models.TextField(
        _("post-logout redirect URIs"),
        blank=True,
        validators=[validate_redirect_uris],
        help_text=_("One per line. Where users may be sent after signing out; requests must match exactly."),
    )
    backchannel_logout_uri = models.CharField(
        _("back-channel logout URI"),
        max_length=512,
        blank=True,
        validators=[validate_backchannel_logout_uri],
        help_text=_("The server posts a signed logout token here when a user signs out."),
    )
    id_token_signed_response_alg = models.CharField(
        _("ID token signing algorithm"),
        max_length=10,
        choices=SigningKey.Algorithm.choices,
        default=SigningKey.Algorithm.RS256,
    )
    # What its access tokens are; a resource that declares a format decides
    # for the tokens meant for it (resources.access_token_format).
    access_token_format = models.CharField(
        _("access token format"),
        max_length=10,
        choices=ACCESS_TOKEN_FORMAT_CHOICES,
        default=OPAQUE,
        help_text=_(
            "JWT: resource servers validate the access tokens without asking this server; they live "
            "at most JWT_ACCESS_TOKEN_EXPIRE_SECONDS."
        ),
    )
    subject_type = models.CharField(
        _("subject type"),
        max_length=10,
        choices=SubjectType.choices,
        default=default_subject_type,
        help_text=_("Pairwise: each site (sector) sees a different identifier for the same user."),
    )
    sector_identifier_uri = models.URLField(
        _("sector identifier URI"),
        max_length=512,
        blank=True,
        help_text=_(
            "Pairwise clients with redirect URIs on several hosts: an https URL listing them as JSON, "
            "whose host names the sector (OpenID Connect Core §8.1)."
        ),
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
    # While an approved client's self-service changes await review: the
    # REVIEWED_FIELDS values as they were when approved (the admin sees
    # old -> new). None otherwise, and for a new client never approved.
    approved_values = models.JSONField(_("approved values"), null=True, blank=True, editable=False)
    # A client whose client_id is the https URL of its metadata document
    # (client_metadata_documents.py): when it was last fetched, and until when
    # that copy is used. Both None for every other client.
    metadata_document_fetched_at = models.DateTimeField(
        _("metadata document fetched"), null=True, blank=True, editable=False
    )
    metadata_document_expires_at = models.DateTimeField(
        _("metadata document fresh until"), null=True, blank=True, editable=False
    )
    # RFC 7592 §3: the hash of the bearer token that reads, updates and deletes
    # a client registered at the registration endpoint (RFC 7591); empty for
    # every other client, so it also tells that nobody reviewed who registered it.
    registration_access_token_hash = models.CharField(
        _("registration access token hash"), max_length=64, blank=True, editable=False
    )
    # RFC 7591 §2 "jwks": the public keys a private_key_jwt client signs its
    # client assertions with (client_assertions.py); such a client has no
    # secret. Set from a client ID metadata document (its jwks, or what its
    # jwks_uri served when it was fetched); None for every other client.
    jwks = models.JSONField(_("public keys (JWKS)"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]

    def __str__(self) -> str:
        # Isolated (FSI ... PDI): the admin shows this in titles, breadcrumbs and
        # lists, where a name stored before names were checked must not reorder them.
        return isolate(self.name)

    @property
    def is_confidential(self) -> bool:
        return self.client_type == self.ClientType.CONFIDENTIAL

    @property
    def is_metadata_document(self) -> bool:
        """Whether a client ID metadata document, not a registration, describes the client."""
        return self.metadata_document_fetched_at is not None

    @property
    def metadata_document_host(self) -> str | None:
        """The host serving the client's metadata document: who vouches for it
        (the consent screen shows it); None for a registered client."""
        return urlsplit(self.client_id).hostname if self.is_metadata_document else None

    @property
    def displayed_website(self) -> str:
        """The website people are shown as the client's. A metadata document
        may name any site (a bank's) as its ``client_uri``, unchecked, next to
        the notice that only its host vouches for it: so its website is shown
        only when on that very host."""
        host = self.metadata_document_host
        if host is not None and urlsplit(self.website).hostname != host:
            return ""
        return self.website

    @property
    def redirect_uri_list(self) -> list[str]:
        return split_redirect_uris(self.redirect_uris)

    @property
    def post_logout_redirect_uri_list(self) -> list[str]:
        return split_redirect_uris(self.post_logout_redirect_uris)

    @property
    def allowed_origin_list(self) -> list[str]:
        return cors.split_origins(self.allowed_origins)

    @property
    def cors_origins(self) -> frozenset[str]:
        """The web origins whose pages may read this client's token and
        revocation responses: those approved, while changes await review."""
        return cors.client_origin_set(
            split_redirect_uris(self.approved_value("redirect_uris")),
            cors.split_origins(self.approved_value("allowed_origins")),
        )

    @property
    def grant_type_labels(self) -> list[str]:
        """Human names of the client's grant types, in the order stored."""
        labels = dict(GRANT_TYPE_CHOICES)
        return [str(labels.get(name, name)) for name in self.grant_types]

    def approve(self) -> None:
        """An admin's approval of a self-registered client or of its changes: it becomes usable.

        Approving a new client is what activates it; approving changes does
        not, so a client an admin deactivated, whose owner or registrant
        (RFC 7592 §2.2) then changed it, stays deactivated."""
        if not self.under_review:
            self.is_active = True
        self.awaiting_approval = False
        self.approved_values = None

    def reviewed_values(self) -> dict[str, Any]:
        """The ``REVIEWED_FIELDS`` values, as stored in ``approved_values``."""
        return {name: copy.deepcopy(getattr(self, name)) for name in REVIEWED_FIELDS}

    def review_digest(self) -> str:
        """A fingerprint of the ``REVIEWED_FIELDS`` values as they are now:
        HMAC-SHA256 (64 hex characters, keyed with ``SECRET_KEY``) of this
        client's id and those values as canonical JSON.

        An admin's approval page carries the digest of what it showed; the
        approval goes through only while the client still has that digest, so
        an owner's change made after the admin looked is never approved unseen
        (``has_review_digest``).
        """
        canonical = json.dumps(
            {"client": self.pk, **self.reviewed_values()},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return salted_hmac("oauth_provider.Client.review_digest", canonical, algorithm="sha256").hexdigest()

    def has_review_digest(self, digest: str) -> bool:
        """Whether ``digest`` (as posted back; any string) is ``review_digest()``
        now, compared in constant time."""
        return constant_time_compare(digest, self.review_digest())

    def request_review(self, approved: dict[str, Any]) -> None:
        """Send the client back to review after its owner changed reviewed
        values; ``approved`` holds them as they were before the change.

        The client stays active: tokens already issued keep working, but no
        new authorization starts until an admin approves (see
        ``accepts_new_authorizations`` and ``allows_grant_type``). A client
        already waiting keeps the values it was last approved with, and one
        changed back to exactly those needs no review.
        """
        if self.awaiting_approval and self.approved_values is None:
            return  # never approved: it simply keeps waiting
        previous = self.approved_values if self.awaiting_approval else approved
        if not self._changed_fields(previous):
            self.awaiting_approval, self.approved_values = False, None
        else:
            self.awaiting_approval, self.approved_values = True, previous

    @property
    def under_review(self) -> bool:
        """An approved client whose changes await an admin (as opposed to a new one)."""
        return self.awaiting_approval and self.approved_values is not None

    @property
    def accepts_new_authorizations(self) -> bool:
        """Whether users may authorize the client now (authorization endpoint,
        device verification) and it may start a device request."""
        return self.is_active and not self.awaiting_approval

    def approved_value(self, name: str) -> Any:
        """The value of reviewed field ``name`` that an admin approved: the
        current one, except while changes await review, when it is the one
        approved (a field reviewed only since then: the current one); for a
        client never approved, the field's default."""
        if not self.awaiting_approval:
            return getattr(self, name)
        if self.approved_values is None:
            return self._meta.get_field(name).get_default()
        return self.approved_values.get(name, getattr(self, name))

    def review_changes(self) -> list[tuple[str, Any, Any]]:
        """(field verbose name, approved value, current value) of each reviewed
        field changed since approval; empty unless ``under_review``."""
        if not self.under_review:
            return []
        return [
            (
                str(self._meta.get_field(name).verbose_name),
                self.approved_values.get(name),
                getattr(self, name),
            )
            for name in self._changed_fields(self.approved_values)
        ]

    def _changed_fields(self, approved: dict[str, Any]) -> list[str]:
        """The reviewed fields whose value differs from ``approved`` (lists in any order)."""

        def same(old: Any, new: Any) -> bool:
            if isinstance(old, list) and isinstance(new, list):
                return sorted(map(str, old)) == sorted(map(str, new))
            return old == new

        return [name for name in REVIEWED_FIELDS if not same(approved.get(name), getattr(self, name))]

    def set_secret(self) -> str:
        """Give the client a new secret; return it. Only its hash is kept."""
        secret = generate_token(CLIENT_SECRET_PREFIX)
        self.client_secret_hash = hash_secret(secret)
        return secret

    def check_secret(self, secret: str) -> bool:
        return bool(self.client_secret_hash) and secrets_match(secret, self.client_secret_hash)

    @property
    def dynamically_registered(self) -> bool:
        """Registered by anyone at the registration endpoint (RFC 7591), not by an admin."""
        return bool(self.registration_access_token_hash)

    @property
    def registered_by_admin(self) -> bool:
        """``REGISTERED_BY_ADMIN``, for this client."""
        return self.owner_id is None and not self.dynamically_registered and not self.is_metadata_document

    def set_registration_access_token(self) -> str:
        """Give the client a new registration access token (RFC 7592 §3); return it. Only its hash is kept."""
        token = generate_token(REGISTRATION_ACCESS_TOKEN_PREFIX)
        self.registration_access_token_hash = hash_secret(token)
        return token

    def check_registration_access_token(self, token: str) -> bool:
        return self.dynamically_registered and secrets_match(token, self.registration_access_token_hash)

    def allows_grant_type(self, grant_type: str) -> bool:
        """Whether the token endpoint may run ``grant_type`` for this client.

        Under review, only grants that redeem what users authorized earlier,
        and only those it was approved with: refreshing keeps issued tokens
        alive, but client credentials or password would be new authorizations.
        """
        if grant_type not in self.grant_types or grant_type not in oauth_settings.GRANT_TYPES:
            return False
        if self.awaiting_approval:
            approved = (self.approved_values or {}).get("grant_types") or []
            return grant_type in REDEEMING_GRANT_TYPES and grant_type in approved
        return True

    def configuration_warnings(self) -> list[str]:
        """What will not work as configured, for whoever saved it (admin,
        ``createclient``), in their language now: these are never protocol errors."""
        warnings = [
            str(
                _(
                    "The server does not offer %(grant_type)s; add it to "
                    "OAUTH_PROVIDER['GRANT_TYPES'] before this client can use it."
                )
            )
            % {"grant_type": grant_type}
            for grant_type in self.grant_types
            if grant_type not in oauth_settings.GRANT_TYPES
        ]
        if self.allow_introspection and not self.is_confidential:
            warnings.append(
                str(_("Public clients cannot authenticate, so the introspection endpoint refuses them."))
            )
        return warnings

    def clean(self) -> None:
        """The one place a client's lists are checked (admin, forms and createclient all call it)."""
        errors = {}
        unknown_scopes = _unknown(self.scopes, oauth_settings.SCOPES)
        if unknown_scopes is not None:
            errors["scopes"] = _("Unknown scope %(unknown)s. Scopes the server defines: %(known)s.") % {
                "unknown": unknown_scopes,
                "known": ", ".join(oauth_settings.SCOPES),
            }
        # A key is made on first use for any algorithm; the server's operator
        # chose which ones it signs with (and rotates).
        algorithms = oauth_settings.OIDC_SIGNING_ALGORITHMS
        if self.id_token_signed_response_alg not in algorithms:
            errors["id_token_signed_response_alg"] = _(
                "The server does not sign ID tokens with %(algorithm)s. It signs with: %(algorithms)s."
            ) % {"algorithm": self.id_token_signed_response_alg, "algorithms": ", ".join(algorithms)}
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
        if (
            self.backchannel_logout_uri
            and not outbound.private_addresses_allowed(self)
            and outbound.names_no_public_address(self.backchannel_logout_uri)
        ):
            errors["backchannel_logout_uri"] = _(
                "Logout tokens are only sent to public internet addresses, not to this host."
            )
        if errors:
            raise ValidationError(errors)
        self._clean_sector()

    def _clean_sector(self) -> None:
        """OpenID Connect Core 1.0 §8.1 and Registration 1.0 §5: a pairwise
        client's redirect URIs are on one host unless it registers a
        ``sector_identifier_uri``, which must list them all (fetched here,
        only when it or a redirect URI is new: an unchanged client stays
        savable while the sector's host is down; for a client with an
        owner, from a public address only: ``outbound``)."""
        if self.sector_identifier_uri:
            try:
                sector_identifiers.validate_sector_identifier_uri(self.sector_identifier_uri)
                if self._sector_changed():
                    sector_identifiers.verify(
                        self.sector_identifier_uri,
                        self.redirect_uri_list,
                        private_allowed=outbound.private_addresses_allowed(self),
                    )
            except ValidationError as error:
                raise ValidationError({"sector_identifier_uri": error}) from None
        elif (
            self.subject_type == SubjectType.PAIRWISE
            and len(sector_identifiers.redirect_uri_sectors(self.redirect_uri_list)) > 1
        ):
            raise ValidationError(
                {
                    "redirect_uris": _(
                        "A pairwise client whose redirect URIs are on more than one host needs a "
                        "sector identifier URI listing them all."
                    )
                }
            )

    def _sector_changed(self) -> bool:
        """Whether the sector identifier URI differs from the stored one or a
        redirect URI was added (always, for a new client)."""
        if self._state.adding or self.pk is None:
            return True
        # From the primary: what this save replaces, not a replica's older copy.
        rows = Client.objects.using(primary.alias(Client))
        stored = rows.filter(pk=self.pk).values_list("sector_identifier_uri", "redirect_uris").first()
        if stored is None:
            return True
        uri, redirect_uris = stored
        # Removing a redirect URI needs no new proof: the document listed it.
        return uri != self.sector_identifier_uri or not set(self.redirect_uri_list) <= set(
            split_redirect_uris(redirect_uris)
        )
