"""Django admin for clients, credentials, consents, sign-ins and signing keys.

Three rules shape everything here:

* A credential is stored only as a hash, and neither the hash nor any raw
  value is ever displayed: a screenshot or a shoulder must not leak one.
* A client secret exists in readable form exactly once, in the response to
  the request that created it. It is rendered straight into that response
  (never put in ``django.contrib.messages``, whose storage may be a cookie
  or the session) and the response is marked ``no-store``.
* Tokens end only through ``revocation.revoke_tokens`` (refresh tokens
  first) and consents only through ``consents.withdraw_consent``, so the
  revocation stream, signal receivers and a consent's tokens all follow.
* A signing key's private part is never displayed, not even encrypted;
  keys are made only by ``signing_keys.rotate``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, ExpressionWrapper, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import clock, primary, revocation_stream, signing_keys
from .consents import withdraw_consent
from .forms import ClientForm
from .metadata import issuer
from .models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    DeviceAuthorization,
    InitialAccessToken,
    RefreshToken,
    SignIn,
    SigningKey,
)
from .models.base import get_or_none
from .models.clients import REGISTERED_BY_ADMIN
from .redirect_uris import split_redirect_uris
from .revocation import REVOKED_FIELDS, RevocationReason, end_grants, revoke_tokens
from .settings import oauth_settings

# The hidden field of the approval confirmation page that carries the
# review_digest of what it showed for the client of this pk.
REVIEW_DIGEST_FIELD = "review_digest_%s"

# Where a secret generated while saving the admin form waits for response_add
# or response_change; set on the saved instance only for that one request.
_GENERATED_ATTR = "_oauth_provider_generated"


def changelist_url(model: type[models.Model], site: admin.AdminSite = admin.site, **filters: Any) -> str:
    """The admin changelist of ``model``, filtered by query-string ``filters``."""
    opts = model._meta
    url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


SHORT_CLIENT_TYPES = {
    Client.ClientType.CONFIDENTIAL: _("Confidential"),
    Client.ClientType.PUBLIC: _("Public"),
}


def user_search_fields(relation: str) -> list[str]:
    """Search through ``relation`` by the user model's username and email
    fields, whatever they are called: a custom user model may have no
    ``username`` (or no ``email``), and searching a missing field is an error."""
    user_model = get_user_model()
    names = dict.fromkeys((user_model.USERNAME_FIELD, user_model.get_email_field_name()))
    existing = {field.name for field in user_model._meta.get_fields()}
    return [f"{relation}__{name}" for name in names if name in existing]


# The client's OpenID Connect registration (Registration 1.0 §2).
OIDC_FIELDS = [
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "id_token_signed_response_alg",
    "subject_type",
    "sector_identifier_uri",
]


class EmptyFieldFilter(admin.SimpleListFilter):
    """A filter whose choices tell rows whose ``field`` is empty (NULL) from
    the others: ``options`` maps each choice's value to its label and to
    whether it selects the empty rows, in the order listed."""

    field: ClassVar[str]
    options: ClassVar[dict[str, tuple[Any, bool]]]

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(value, label) for value, (label, _empty) in self.options.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        option = self.options.get(self.value() or "")
        return None if option is None else queryset.filter(**{f"{self.field}__isnull": option[1]})


class OwnerFilter(EmptyFieldFilter):
    """Who registered a client: a user through self-service (the client has an
    owner) or an administrator (``models.clients.REGISTERED_BY_ADMIN``: no owner, and
    neither self-registered nor described by a metadata document)."""

    title = _("registered by")
    parameter_name = "registered_by"
    field = "owner"
    options = {
        "user": (_("A user (has an owner)"), False),
        "admin": (_("An administrator (no owner)"), True),
    }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "admin":
            return queryset.filter(REGISTERED_BY_ADMIN)
        return super().queryset(request, queryset)


class MetadataDocumentFilter(EmptyFieldFilter):
    """Where a client's description comes from: a registration (admin,
    self-service) or a client ID metadata document its client_id points to
    (client_metadata_documents.py), which the server refetches and nobody reviewed."""

    title = _("described by")
    parameter_name = "described_by"
    field = "metadata_document_fetched_at"
    options = {
        "registration": (_("A registration"), True),
        "metadata_document": (_("A client ID metadata document"), False),
    }


def format_review_value(value: Any) -> SafeString:
    """One reviewed value as the admin reads it: lists one item per line,
    each isolated (``<bdi>``) so that no value can reorder the others."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str) and "\n" in value:
        items = split_redirect_uris(value)
    else:
        items = [value]
    if not any(item not in ("", None) for item in items):
        return format_html("<em>{}</em>", gettext("(empty)"))
    return format_html_join(mark_safe("<br>"), "<bdi>{}</bdi>", ((item,) for item in items))


def _review_list(item: str, rows: Iterable[tuple[Any, ...]]) -> SafeString:
    return format_html('<ul class="oauth-review-changes">{}</ul>', format_html_join("", item, rows))


def format_review_changes(client: Client) -> SafeString:
    """What changed since approval, as "field: old → new" lines."""
    return _review_list(
        "<li><strong>{}</strong>: <del>{}</del> → <ins>{}</ins></li>",
        (
            (label, format_review_value(old), format_review_value(new))
            for label, old, new in client.review_changes()
        ),
    )


def format_review_values(client: Client) -> SafeString:
    """A new client's reviewed values, as "field: value" lines."""
    return _review_list(
        "<li><strong>{}</strong>: {}</li>",
        (
            (client._meta.get_field(name).verbose_name, format_review_value(value))
            for name, value in client.reviewed_values().items()
        ),
    )


class ClientAdminForm(ClientForm):
    """The client form with the admin's approval of a reviewed client's changes."""

    approve_changes = forms.BooleanField(
        label=_("Approve the changes"),
        required=False,
        help_text=_("Users can authorize the client again, as it is now."),
    )


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """Registered clients (RFC 6749 §2), including those users registered
    themselves, or changed since approval, that await an admin's approval.

    The change page and the list show what changed since approval (old → new).
    Every name is shown in ``<bdi>``, so that none can reorder the text around it.
    """

    form = ClientAdminForm
    # The page that shows newly generated secrets, once.
    show_once_template_name = "oauth_provider/admin/client_secret.html"
    list_display = [
        "display_name",
        "client_id",
        "short_client_type",
        "owner",
        "grant_type_list",
        "is_active",
        "awaiting_approval",
        "changes_awaiting_review",
        "active_token_count",
        "created_at",
    ]
    list_filter = [
        "client_type",
        "is_active",
        "awaiting_approval",
        "skip_consent",
        OwnerFilter,
        MetadataDocumentFilter,
    ]
    search_fields = ["name", "client_id", *user_search_fields("owner")]
    list_select_related = ["owner"]
    # A raw id input scales to any number of users and needs no User admin.
    raw_id_fields = ["owner"]
    # client_secret_hash is deliberately absent: only whether a secret is set.
    readonly_fields = [
        "client_id",
        "secret_status",
        "awaiting_approval",
        "changes_awaiting_review",
        "credential_links",
        "metadata_document_fetched_at",
        "metadata_document_expires_at",
        "created_at",
        "updated_at",
    ]
    actions = ["approve_selected", "revoke_all_tokens", "regenerate_secret"]
    # What "Approve selected clients" shows before it approves; override like
    # Django's delete_selected_confirmation_template.
    approve_selected_confirmation_template = "admin/oauth_provider/client/approve_selected_confirmation.html"

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        main = ["name", "website", "client_type", "redirect_uris", "allowed_origins", "grant_types", "scopes"]
        access = ["access_token_format", "skip_consent", "allow_introspection", "owner", "is_active"]
        openid = (_("OpenID Connect"), {"fields": OIDC_FIELDS, "classes": ["collapse"]})
        if obj is None:
            return [(None, {"fields": main}), openid, (_("Access"), {"fields": access})]
        access_options: dict[str, Any] = {"fields": [*access, "awaiting_approval"]}
        review: list[Any] = []
        if obj.under_review:
            access_options["fields"].append("approve_changes")
            review = [
                (
                    _("Changes awaiting review"),
                    {
                        "fields": ["changes_awaiting_review"],
                        "description": _(
                            "Its owner changed this client after it was approved. Until you approve the "
                            "changes, users cannot authorize it; tokens already issued keep working."
                        ),
                    },
                )
            ]
        elif obj.awaiting_approval and obj.dynamically_registered:
            # Nobody signed in: its name and URIs are whatever the registrant sent.
            access_options["description"] = _(
                "Software registered this client at the registration endpoint (RFC 7591), without signing "
                "in: check its name and redirect URIs. Tick “Active” and save to approve it."
            )
        elif obj.awaiting_approval:
            access_options["description"] = _(
                "A user registered this client and it awaits approval. Tick “Active” and save to approve it."
            )
        history = ["created_at", "updated_at"]
        if obj.is_metadata_document:
            history = ["metadata_document_fetched_at", "metadata_document_expires_at", *history]
        return [
            *review,
            (None, {"fields": ["client_id", "secret_status", *main]}),
            openid,
            (_("Access"), access_options),
            (_("Tokens and consents"), {"fields": ["credential_links"]}),
            (_("History"), {"fields": history}),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        # One aggregate in the changelist query instead of one COUNT per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _active_token_count=Count(
                    "accesstoken",
                    filter=Q(accesstoken__revoked_at__isnull=True, accesstoken__expires_at__gt=clock.now()),
                )
            )
        )

    @admin.display(description=_("active access tokens"), ordering="_active_token_count")
    def active_token_count(self, client: Client) -> SafeString:
        count = getattr(client, "_active_token_count", 0)
        url = changelist_url(AccessToken, self.admin_site, client__id__exact=client.pk, state="active")
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, client: Client) -> SafeString:
        return format_html("<bdi>{}</bdi>", client.name)

    @admin.display(description=_("changes awaiting review"))
    def changes_awaiting_review(self, client: Client) -> SafeString | str:
        if client.under_review:
            return format_review_changes(client)
        if client.awaiting_approval:
            return gettext("New client")
        return ""

    @admin.display(description=_("type"), ordering="client_type")
    def short_client_type(self, client: Client) -> str:
        # The choice labels explain each type for the form; a list column needs one word.
        return str(SHORT_CLIENT_TYPES.get(client.client_type, client.client_type))

    @admin.display(description=_("grant types"))
    def grant_type_list(self, client: Client) -> str:
        return ", ".join(client.grant_type_labels)

    @admin.display(description=_("client secret"))
    def secret_status(self, client: Client) -> str:
        if not client.is_confidential:
            return gettext("None (public client)")
        if client.client_secret_hash:
            return gettext("Set (stored as a hash; use the “Regenerate secret” action to replace it)")
        return gettext("Not set")

    @admin.display(description=_("issued to this client"))
    def credential_links(self, client: Client) -> SafeString:
        """This client's tokens and consents: counts, each linking to its filtered list."""
        live = Q(revoked_at__isnull=True, expires_at__gt=clock.now())
        access, refresh = (
            model.objects.filter(client=client).aggregate(count=Count("pk"), active=Count("pk", filter=live))
            for model in (AccessToken, RefreshToken)
        )
        consents = Consent.objects.filter(client=client).count()
        links = [
            (
                AccessToken,
                ngettext(
                    "%(count)d access token (%(active)d active)",
                    "%(count)d access tokens (%(active)d active)",
                    access["count"],
                )
                % access,
            ),
            (
                RefreshToken,
                ngettext(
                    "%(count)d refresh token (%(active)d active)",
                    "%(count)d refresh tokens (%(active)d active)",
                    refresh["count"],
                )
                % refresh,
            ),
            (Consent, ngettext("%(count)d consent", "%(count)d consents", consents) % {"count": consents}),
        ]
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a></li>',
            (
                (changelist_url(model, self.admin_site, client__id__exact=client.pk), text)
                for model, text in links
            ),
        )
        return format_html('<ul class="oauth-credential-links">{}</ul>', items)

    def save_form(self, request: HttpRequest, form: ModelForm, change: bool) -> Client:
        client: Client = super().save_form(request, form, change)
        setattr(client, _GENERATED_ATTR, getattr(form, "new_secret", None))
        return client

    def save_model(self, request: HttpRequest, obj: Client, form: ModelForm, change: bool) -> None:
        # An admin who ticks "active" on a client awaiting approval means to approve it;
        # leaving awaiting_approval set would list an active client as still waiting.
        # A client under review is active already: its changes need "approve the changes".
        approving = (
            change
            and obj.awaiting_approval
            and obj.is_active
            and ("is_active" in form.changed_data or form.cleaned_data.get("approve_changes"))
        )
        if approving:
            obj.approve()
        super().save_model(request, obj, form, change)
        if approving:
            self.log_change(request, obj, gettext("Approved the client."))
        # What createclient warns about too: a setting that will not work as saved.
        for warning in obj.configuration_warnings():
            self.message_user(request, warning, messages.WARNING)

    def response_add(self, request: HttpRequest, obj: Client, post_url_continue: str | None = None) -> Any:
        secret = getattr(obj, _GENERATED_ATTR, None)
        if secret:
            return self.render_secrets(request, [(obj, secret)])
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Client) -> Any:
        secret = getattr(obj, _GENERATED_ATTR, None)
        if secret:
            return self.render_secrets(request, [(obj, secret)])
        return super().response_change(request, obj)

    def render_secrets(self, request: HttpRequest, secrets: Sequence[tuple[Client, str]]) -> HttpResponse:
        """The one page that ever shows a raw client secret."""
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": ngettext("New client secret", "New client secrets", len(secrets)),
            "opts": opts,
            "app_label": opts.app_label,
            "secrets": secrets,
            "changelist_url": changelist_url(Client, self.admin_site),
        }
        response = TemplateResponse(request, self.show_once_template_name, context)
        # The secret must not survive in any cache, shared or private.
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("Approve selected clients"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        """Approve self-registered clients, or their owners' changes, exactly as the admin saw them.

        As Django's ``delete_selected``: the action first answers with a
        confirmation page (``render_approval_confirmation``) listing what each
        selected client awaiting approval would have approved, with each
        client's ``review_digest``; the confirmation (``post=yes``) approves
        only clients whose digest is still the one shown (``approve_as_shown``).
        Clients not awaiting approval are skipped: "approving" a client an
        admin deactivated on purpose must not switch it back on.
        """
        selected = list(queryset.values_list("pk", flat=True))
        if request.POST.get("post") == "yes":
            self.approve_as_shown(request, selected)
            return None
        waiting = list(Client.objects.filter(pk__in=selected, awaiting_approval=True).order_by("name", "pk"))
        # Said on the confirmation page (it shows messages), or on the list if nothing waits.
        self.warn_not_waiting(request, len(selected) - len(waiting))
        if not waiting:
            return None
        return self.render_approval_confirmation(request, waiting)

    def render_approval_confirmation(self, request: HttpRequest, clients: Sequence[Client]) -> HttpResponse:
        """The page that shows what "Approve selected clients" would approve:
        a new client's reviewed values, a changed one's old → new, and in
        hidden fields ``review_digest_<pk>`` the digest of those values."""
        opts = self.model._meta
        rows = [
            {
                "client": client,
                "changes": format_review_changes(client)
                if client.under_review
                else format_review_values(client),
                "digest_field": REVIEW_DIGEST_FIELD % client.pk,
                "digest": client.review_digest(),
            }
            for client in clients
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Approve clients"),
            "subtitle": None,
            "opts": opts,
            "app_label": opts.app_label,
            "rows": rows,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
            "changelist_url": changelist_url(Client, self.admin_site),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.approve_selected_confirmation_template, context)

    def approve_as_shown(self, request: HttpRequest, selected: Sequence[Any]) -> None:
        """Approve, in one transaction, each of the ``selected`` client ids that
        awaits approval and whose ``review_digest`` is the one the confirmation
        page posted; name the others in a warning, to be reviewed again."""
        approved = 0
        changed: list[Client] = []
        with primary.atomic(Client):
            # Locked from the digest check to the save (FOR UPDATE on PostgreSQL): an owner's
            # edit committed in between would be approved unseen. Locked, too, so two admins
            # approving at once log one approval, not two. Plain rows: FOR UPDATE is not
            # allowed with get_queryset()'s GROUP BY.
            waiting = Client.objects.select_for_update().filter(pk__in=selected, awaiting_approval=True)
            for client in waiting.order_by("name", "pk"):
                if not client.has_review_digest(request.POST.get(REVIEW_DIGEST_FIELD % client.pk, "")):
                    changed.append(client)
                    continue
                client.approve()
                client.save(update_fields=["awaiting_approval", "is_active", "approved_values", "updated_at"])
                self.log_change(request, client, gettext("Approved the client."))
                approved += 1
        if approved:
            self.message_user(
                request,
                ngettext("%(count)d client was approved.", "%(count)d clients were approved.", approved)
                % {"count": approved},
                messages.SUCCESS,
            )
        if changed:
            # Messages hold no markup: each name is isolated with FSI ... PDI (Client.__str__).
            self.message_user(
                request,
                ngettext(
                    "%(count)d client was not approved: it changed since you looked. "
                    "Review it again: %(names)s.",
                    "%(count)d clients were not approved: they changed since you looked. "
                    "Review them again: %(names)s.",
                    len(changed),
                )
                % {"count": len(changed), "names": ", ".join(map(str, changed))},
                messages.WARNING,
            )
        self.warn_not_waiting(request, len(selected) - approved - len(changed))

    def warn_not_waiting(self, request: HttpRequest, count: int) -> None:
        """Tell the admin that ``count`` selected clients were not awaiting approval (if any)."""
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d client was skipped: it was not awaiting approval.",
                    "%(count)d clients were skipped: they were not awaiting approval.",
                    count,
                )
                % {"count": count},
                messages.WARNING,
            )

    @admin.action(description=_("Revoke all tokens of selected clients"), permissions=["change"])
    def revoke_all_tokens(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        """End every live access and refresh token of the selected clients, and
        their unredeemed codes and approved device requests, which would
        otherwise be exchanged for new tokens moments later (``end_grants``).
        Clients stay active: deactivate one to keep it from obtaining new tokens.
        """
        count = end_grants(
            client__in=list(queryset.values_list("pk", flat=True)), reason=RevocationReason.REVOKED
        )
        self.message_user(
            request,
            ngettext("%(count)d token was revoked.", "%(count)d tokens were revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Regenerate secret of selected confidential clients"), permissions=["change"])
    def regenerate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        """Replace each confidential client's secret; the old one stops working.

        Tokens already issued stay valid: rotating a secret is routine, not a
        sign of compromise, and revoking tokens is a separate action.
        """
        public = 0
        secrets: list[tuple[Client, str]] = []
        # All or nothing: a secret replaced but never shown would lock its client out.
        with primary.atomic(Client):
            # Lock plain rows: FOR UPDATE is not allowed with get_queryset()'s GROUP BY.
            selected = list(queryset.values_list("pk", flat=True))
            locked = Client.objects.select_for_update().filter(pk__in=selected)
            for client in locked.order_by("name", "pk"):
                if not client.is_confidential:
                    public += 1
                    continue
                secret = client.set_secret()
                client.save(update_fields=["client_secret_hash", "updated_at"])
                self.log_change(request, client, gettext("Regenerated the client secret."))
                secrets.append((client, secret))
        if public:
            self.message_user(
                request,
                ngettext(
                    "%(count)d public client was skipped: public clients have no secret.",
                    "%(count)d public clients were skipped: public clients have no secret.",
                    public,
                )
                % {"count": public},
                messages.WARNING,
            )
        if not secrets:
            return None
        return self.render_secrets(request, secrets)


class StateFilter(admin.SimpleListFilter):
    """Active, expired, or ended early (a revoked token, a used code)."""

    title = _("state")
    parameter_name = "state"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        self.ended_field: str = model_admin.ended_field
        self.ended_label: Any = model_admin.ended_label
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("expired", _("Expired")), ("ended", self.ended_label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        not_ended = {f"{self.ended_field}__isnull": True}
        value = self.value()
        if value == "ended":
            return queryset.filter(**{f"{self.ended_field}__isnull": False})
        if value == "expired":
            return queryset.filter(**not_ended, expires_at__lte=clock.now())
        if value == "active":
            return queryset.filter(**not_ended, expires_at__gt=clock.now())
        return None


class UserFilter(admin.SimpleListFilter):
    """Rows of one user, reached through the links in the user column.

    Only the chosen user is offered: a list of every user would not scale.
    """

    title = _("user")
    # Django's own spelling for a related-field filter, so such URLs read the same.
    parameter_name = "user__id__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        value = self.value()
        if value is None:
            return []
        user = None
        with contextlib.suppress(ValueError, ValidationError):
            user = get_or_none(get_user_model()._default_manager.filter(pk=value))
        # An unknown user is still offered: Django skips filters with no choices,
        # which would list every row instead of none.
        return [(value, str(user) if user is not None else value)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if value is None:
            return None
        try:
            return queryset.filter(user__pk=value)
        except (ValueError, ValidationError) as error:
            # Django answers this with its "?e=1" page, as for any bad filter value.
            raise IncorrectLookupParameters(error) from error


class UserColumnMixin:
    """A user column whose links list that user's rows of the same model."""

    model: type[models.Model]
    admin_site: admin.AdminSite

    @admin.display(description=_("user"), ordering="user")
    def user_link(self, obj: Any) -> SafeString | None:
        if obj.user_id is None:
            return None  # shown as the admin's empty value
        url = changelist_url(self.model, self.admin_site, **{UserFilter.parameter_name: obj.user_id})
        title = gettext("Show only this user's %(items)s") % {"items": self.model._meta.verbose_name_plural}
        return format_html('<a href="{}" title="{}">{}</a>', url, title, obj.user)


class CredentialAdmin(UserColumnMixin, admin.ModelAdmin):
    """Read-only view of codes and tokens: inspect, end early, or delete.

    Rows are created only by the protocol (an admin-made token would have no
    value anyone holds), and their fields record what happened, so nothing is
    editable. ``token_hash`` is never listed: a hash is not a usable
    credential, but there is no reason to show it either.
    """

    ended_field: ClassVar[str] = "revoked_at"
    ended_label: ClassVar[Any] = _("Revoked")
    list_display = ["__str__", "client", "user_link", "scope", "created_at", "expires_at", "state"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), UserFilter, StateFilter]
    search_fields = ["client__name", "client__client_id", *user_search_fields("user")]
    list_select_related = ["client", "user"]
    ordering = ["-created_at"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Every field is a record; the change page becomes a view-only page.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Ending a credential early needs the model's "change" permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description=_("state"))
    def state(self, obj: Any) -> str:
        if getattr(obj, self.ended_field) is not None:
            return str(self.ended_label)
        if obj.is_expired():
            return gettext("Expired")
        return gettext("Active")

    def end_early(self, queryset: QuerySet) -> int:
        """End the credentials of ``queryset`` that have not ended; return how many."""
        # A conditional UPDATE: rows already ended keep their original time.
        return queryset.filter(**{f"{self.ended_field}__isnull": True}).update(
            **{self.ended_field: clock.now()}
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self.end_early(queryset)
        self.message_user(
            request,
            ngettext("%(count)d item was revoked.", "%(count)d items were revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class TokenAdmin(CredentialAdmin):
    def end_early(self, queryset: QuerySet) -> int:
        # Through revocation, so cached copies and signal receivers hear of it.
        tokens = list(queryset.filter(revoked_at__isnull=True).only(*REVOKED_FIELDS))
        revoke_tokens(tokens, reason=RevocationReason.REVOKED)
        return len(tokens)


@admin.register(AccessToken)
class AccessTokenAdmin(TokenAdmin):
    fields = ["client", "user", "scope", "family_id", "created_at", "expires_at", "revoked_at"]

    # A deleted token must not live on in other processes' memory (a
    # remembered row, a JWT checked locally): it is denied by hash there.
    def delete_model(self, request: HttpRequest, obj: AccessToken) -> None:
        revocation_stream.publish_revoked([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        revocation_stream.publish_revoked(queryset.only("token_hash", "expires_at"))
        super().delete_queryset(request, queryset)


@admin.register(RefreshToken)
class RefreshTokenAdmin(TokenAdmin):
    fields = [
        "client",
        "user",
        "scope",
        "family_id",
        "access_token",
        "created_at",
        "expires_at",
        "revoked_at",
    ]


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(CredentialAdmin):
    ended_field = "used_at"
    ended_label = _("Used or revoked")
    # code_challenge is left out: with the "plain" method it is the verifier.
    fields = [
        "client",
        "user",
        "scope",
        "redirect_uri",
        "code_challenge_method",
        "family_id",
        "created_at",
        "expires_at",
        "used_at",
        "end_reason",
    ]

    def end_early(self, queryset: QuerySet) -> int:
        return queryset.end(AuthorizationCode.EndReason.REVOKED)


@admin.register(DeviceAuthorization)
class DeviceAuthorizationAdmin(CredentialAdmin):
    """Device authorization requests (RFC 8628). Neither the device_code's
    hash nor the user_code's is shown. A pending request can be denied, so a
    user code being phished stops working (the device is told
    ``access_denied``, §3.5)."""

    ended_field = "used_at"
    ended_label = _("Used")
    list_display = ["__str__", "client", "user_link", "status", "scope", "created_at", "expires_at", "state"]
    list_filter = [*CredentialAdmin.list_filter, "status"]
    fields = [
        "client",
        "user",
        "status",
        "scope",
        "interval",
        "family_id",
        "created_at",
        "expires_at",
        "last_polled_at",
        "decided_at",
        "used_at",
    ]
    actions = ["deny_selected"]

    @admin.action(description=_("Deny selected pending device authorizations"), permissions=["revoke"])
    def deny_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Pending ones only, in one conditional UPDATE: a decision the user
        # already made, or a race with the user deciding now, is left alone.
        count = queryset.filter(status=DeviceAuthorization.Status.PENDING).update(
            status=DeviceAuthorization.Status.DENIED, decided_at=clock.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d device authorization was denied.",
                "%(count)d device authorizations were denied.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Consent)
class ConsentAdmin(UserColumnMixin, admin.ModelAdmin):
    """What users have granted. Only the user may widen a grant, so the admin
    can look and withdraw but never add or edit one.

    Both ways of removing a consent here (the delete page and the bulk
    delete action) go through ``withdraw_consent``, so no
    token outlives its consent (RFC 7009 §2.1, RFC 9700 §4.14.2).
    """

    list_display = ["user_link", "client", "scope_names", "created_at", "updated_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), UserFilter]
    search_fields = [*user_search_fields("user"), "client__name", "client__client_id", "scope"]
    list_select_related = ["user", "client"]
    ordering = ["-updated_at"]
    fields = ["user", "client", "scope", "resources", "created_at", "updated_at"]
    # Both say that deleting withdraws: the app's tokens for the user go too.
    delete_confirmation_template = "oauth_provider/admin/consent_delete_confirmation.html"
    delete_selected_confirmation_template = "oauth_provider/admin/consent_delete_selected_confirmation.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("scopes"))
    def scope_names(self, consent: Consent) -> str:
        return ", ".join(consent.scopes)

    def withdraw(self, request: HttpRequest, consents: Iterable[Consent]) -> None:
        # All or nothing: a consent gone while its tokens live on is what this prevents.
        with primary.atomic(Consent):
            count = sum(withdraw_consent(consent, issuer=issuer(request)) for consent in consents)
        self.message_user(
            request,
            ngettext("%(count)d token was revoked.", "%(count)d tokens were revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def delete_model(self, request: HttpRequest, obj: Consent) -> None:
        self.withdraw(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        self.withdraw(request, queryset)


class SignInStateFilter(EmptyFieldFilter):
    title = _("state")
    parameter_name = "state"
    field = "ended_at"
    options = {"signed_in": (_("Signed in"), True), "signed_out": (_("Signed out"), False)}


@admin.register(SignIn)
class SignInAdmin(UserColumnMixin, admin.ModelAdmin):
    """Who signed in to which client with OpenID Connect, in which browser
    session (``sid``) and when: a record, so read-only. It ends when its
    browser session does (a sign-out, another user signing in there), when the
    user withdraws consent or changes password (``backchannel_logout``).

    Deletable (Django's delete checks this admin's permission when a client
    or a user goes, with their sign-ins), but ``cleartokens`` deletes a
    sign-in once its tokens cannot be refreshed and its session no longer
    needs its ``sid`` for a logout.
    """

    list_display = ["user_link", "client", "sid", "auth_time", "created_at", "ended_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), UserFilter, SignInStateFilter]
    search_fields = [*user_search_fields("user"), "client__name", "client__client_id", "sid"]
    list_select_related = ["user", "client"]
    ordering = ["-created_at"]
    # The nonce and the claims request are the client's business, not the admin's.
    fields = ["user", "client", "sid", "auth_time", "acr", "amr", "family_id", "created_at", "ended_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SigningKeyStateFilter(admin.SimpleListFilter):
    """A key's state follows from its times (``SigningKey``); "no longer
    published" are retired keys past ``expires_at``, which may be deleted."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [*SigningKey.State.choices, ("unpublished", _("no longer published"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        now = clock.now()
        conditions = {
            SigningKey.State.PENDING: Q(activates_at__gt=now),
            SigningKey.State.ACTIVE: signing_keys.signing_at(now),
            SigningKey.State.RETIRED: Q(retired_at__lte=now) & signing_keys.published_at(now),
            "unpublished": ~signing_keys.published_at(now),
        }
        condition = conditions.get(self.value())
        return None if condition is None else queryset.filter(condition)


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """The keys that sign ID tokens and logout tokens, and their state; a
    "Rotate keys" button on the list (``rotate_view``) makes new ones.

    Nothing is editable and nothing shows the private part. A key is deleted
    only once no longer published: until then, tokens it signed are
    validated against it. ``manage.py cleartokens`` deletes those too.
    """

    list_display = [
        "kid",
        "algorithm",
        "state_label",
        "created_at",
        "activates_at",
        "retired_at",
        "expires_at",
    ]
    list_filter = [SigningKeyStateFilter, "algorithm"]
    search_fields = ["kid"]
    # The public key is public (it is in JWKS); private_key is never listed.
    fields = [*list_display, "public_key"]
    readonly_fields = ["state_label", "public_key"]
    # The list's own template adds the "Rotate keys" button (Django finds it
    # at admin/oauth_provider/signingkey/change_list.html).
    rotate_confirmation_template = "admin/oauth_provider/signingkey/rotate_confirmation.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by rotation, never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SigningKey | None = None) -> bool:
        if obj is not None and (obj.expires_at is None or obj.expires_at > clock.now()):
            return False  # still published: tokens it signed are checked against it
        return super().has_delete_permission(request, obj)

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        """Rotating makes keys: it needs the model's "add" permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk delete would not ask each key whether it is still published.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("state"))
    def state_label(self, key: SigningKey) -> str:
        now = clock.now()
        if key.expires_at is not None and key.expires_at <= now:
            return gettext("no longer published")
        return str(SigningKey.State(key.state_at(now)).label)

    @admin.display(description=_("public key"))
    def public_key(self, key: SigningKey) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(key.public_jwk, indent=2))

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        rotate = path(
            "rotate/",
            self.admin_site.admin_view(self.rotate_view),
            name=f"{opts.app_label}_{opts.model_name}_rotate",
        )
        return [rotate, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        managed_outside = bool(oauth_settings.OIDC_SIGNING_KEYS)
        if managed_outside:
            self.message_user(
                request,
                gettext("OIDC_SIGNING_KEYS is set: the keys in settings sign, not the keys listed here."),
                messages.WARNING,
            )
        context = {
            "can_rotate": self.has_rotate_permission(request) and not managed_outside,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        """A confirmation page (what will be made and retired, and when); its
        POST rotates with ``OIDC_KEY_ACTIVATION_DELAY_SECONDS``, as
        ``manage.py rotatekeys`` does."""
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        changelist = changelist_url(SigningKey, self.admin_site)
        if oauth_settings.OIDC_SIGNING_KEYS:
            self.message_user(
                request,
                gettext("OIDC_SIGNING_KEYS is set: rotate the keys where they are managed."),
                messages.ERROR,
            )
            return redirect(changelist)
        algorithms = list(oauth_settings.OIDC_SIGNING_ALGORITHMS)
        delay = timedelta(seconds=oauth_settings.OIDC_KEY_ACTIVATION_DELAY_SECONDS)
        if request.method == "POST":
            keys = signing_keys.rotate(algorithms, delay=delay)
            for key in keys:
                self.log_addition(request, key, gettext("Made by rotation."))
            self.message_user(
                request,
                ngettext(
                    "%(count)d new key is published now and signs from %(moment)s.",
                    "%(count)d new keys are published now and sign from %(moment)s.",
                    len(keys),
                )
                # Every new key activates at the same moment.
                % {
                    "count": len(keys),
                    "moment": date_format(timezone.localtime(keys[0].activates_at), "DATETIME_FORMAT"),
                },
                messages.SUCCESS,
            )
            return redirect(changelist)
        now = clock.now()
        opts = self.opts
        existing = SigningKey.objects.filter(algorithm__in=algorithms).order_by("algorithm")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Rotate signing keys"),
            "subtitle": None,
            "opts": opts,
            "app_label": opts.app_label,
            "algorithms": algorithms,
            "activates_at": now + delay,
            "retiring": existing.filter(signing_keys.signing_at(now)),
            "pending": existing.filter(activates_at__gt=now),
            "changelist_url": changelist,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.rotate_confirmation_template, context)


@admin.register(InitialAccessToken)
class InitialAccessTokenAdmin(admin.ModelAdmin):
    """Initial access tokens (RFC 7591 §3) for ``REGISTRATION_POLICY``
    ``"initial_access_token"``. A token's value is shown once, on the page
    that answers its creation; only its hash is stored and never displayed.
    Delete a token to withdraw it."""

    show_once_template_name = "oauth_provider/admin/initial_access_token.html"
    list_display = [
        "description",
        "usable",
        "use_count",
        "max_uses",
        "expires_at",
        "created_by",
        "created_at",
    ]
    search_fields = ["description"]
    readonly_fields = ["use_count", "created_by", "created_at"]

    def get_fields(self, request: HttpRequest, obj: InitialAccessToken | None = None) -> list[str]:
        editable = ["description", "expires_at", "max_uses"]
        return editable if obj is None else [*editable, *self.readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InitialAccessToken]:
        # Usable as the registration endpoint decides it, in the list's one query.
        usable = ExpressionWrapper(InitialAccessToken.usable(clock.now()), output_field=models.BooleanField())
        return super().get_queryset(request).annotate(_usable=usable)

    @admin.display(description=_("usable"), boolean=True)
    def usable(self, token: InitialAccessToken) -> bool:
        return token._usable

    def save_model(
        self, request: HttpRequest, obj: InitialAccessToken, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user
            setattr(obj, _GENERATED_ATTR, obj.set_token())
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: InitialAccessToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The one page that shows the new token."""
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("New initial access token"),
            "opts": opts,
            "app_label": opts.app_label,
            "token": getattr(obj, _GENERATED_ATTR),
            "changelist_url": changelist_url(InitialAccessToken, self.admin_site),
        }
        response = TemplateResponse(request, self.show_once_template_name, context)
        add_never_cache_headers(response)
        return response
