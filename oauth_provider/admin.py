"""Django admin for clients, credentials and consents.

Two rules shape everything here:

* A credential is stored only as a hash, and neither the hash nor any raw
  value is ever displayed: a screenshot or a shoulder must not leak one.
* A client secret exists in readable form exactly once, in the response to
  the request that created it. It is rendered straight into that response
  (never put in ``django.contrib.messages``, whose storage may be a cookie
  or the session) and the response is marked ``no-store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import clock
from .forms import ClientForm
from .models import AccessToken, AuthorizationCode, Client, Consent, DeviceAuthorization, RefreshToken
from .revocation import REVOKED_FIELDS, revoke_tokens

# Where a secret generated while saving the admin form waits for response_add
# or response_change; set on the saved instance only for that one request.
_GENERATED_ATTR = "_oauth_provider_generated"


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    # The page that shows newly generated secrets, once.
    show_once_template_name = "oauth_provider/admin/client_secret.html"
    list_display = [
        "name",
        "client_id",
        "client_type",
        "owner",
        "is_active",
        "created_at",
        "active_token_count",
    ]
    list_filter = ["client_type", "is_active", "skip_consent"]
    search_fields = ["name", "client_id", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    # A raw id input scales to any number of users and needs no User admin.
    raw_id_fields = ["owner"]
    # client_secret_hash is deliberately absent: only whether a secret is set.
    readonly_fields = ["client_id", "secret_status", "created_at", "updated_at"]
    actions = ["regenerate_secret"]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        main = ["name", "website", "client_type", "redirect_uris", "grant_types", "scopes"]
        access = ["skip_consent", "allow_introspection", "owner", "is_active"]
        if obj is None:
            return [(None, {"fields": main}), (_("Access"), {"fields": access})]
        return [
            (None, {"fields": ["client_id", "secret_status", *main]}),
            (_("Access"), {"fields": access}),
            (_("History"), {"fields": ["created_at", "updated_at"]}),
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
    def active_token_count(self, client: Client) -> int:
        return getattr(client, "_active_token_count", 0)

    @admin.display(description=_("client secret"))
    def secret_status(self, client: Client) -> str:
        if not client.is_confidential:
            return gettext("None (public client)")
        if client.client_secret_hash:
            return gettext("Set (stored as a hash; use the “Regenerate secret” action to replace it)")
        return gettext("Not set")

    def save_form(self, request: HttpRequest, form: ModelForm, change: bool) -> Client:
        client: Client = super().save_form(request, form, change)
        setattr(client, _GENERATED_ATTR, getattr(form, "new_secret", None))
        return client

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
            "changelist_url": reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"
            ),
        }
        response = TemplateResponse(request, self.show_once_template_name, context)
        # The secret must not survive in any cache, shared or private.
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("Regenerate secret of selected confidential clients"), permissions=["change"])
    def regenerate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        """Replace each confidential client's secret; the old one stops working.

        Tokens already issued stay valid: rotating a secret is routine, not a
        sign of compromise, and revoking tokens is a separate action.
        """
        public = 0
        secrets: list[tuple[Client, str]] = []
        # All or nothing: a secret replaced but never shown would lock its client out.
        with transaction.atomic():
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


class CredentialAdmin(admin.ModelAdmin):
    """Read-only view of codes and tokens: inspect, end early, or delete.

    Rows are created only by the protocol (an admin-made token would have no
    value anyone holds), and their fields record what happened, so nothing is
    editable. ``token_hash`` is never listed: a hash is not a usable
    credential, but there is no reason to show it either.
    """

    ended_field: ClassVar[str] = "revoked_at"
    ended_label: ClassVar[Any] = _("Revoked")
    list_display = ["__str__", "client", "user", "scope", "created_at", "expires_at", "state"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), StateFilter]
    search_fields = ["client__name", "client__client_id", "user__username"]
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
        revoke_tokens(tokens, reason="revoked")
        return len(tokens)


@admin.register(AccessToken)
class AccessTokenAdmin(TokenAdmin):
    fields = ["client", "user", "scope", "family_id", "created_at", "expires_at", "revoked_at"]


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
    ]


@admin.register(DeviceAuthorization)
class DeviceAuthorizationAdmin(CredentialAdmin):
    """Device authorization requests (RFC 8628). Neither the device_code's
    hash nor the user_code's is shown. A pending request can be denied, so a
    user code being phished stops working (the device is told
    ``access_denied``, §3.5)."""

    ended_field = "used_at"
    ended_label = _("Used")
    list_display = ["__str__", "client", "user", "status", "scope", "created_at", "expires_at", "state"]
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
class ConsentAdmin(admin.ModelAdmin):
    """What users have granted. Only the user may widen a grant, so the admin
    can look and withdraw (delete) but never add or edit one."""

    list_display = ["user", "client", "scope", "created_at", "updated_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "client__name", "client__client_id", "scope"]
    list_select_related = ["user", "client"]
    ordering = ["-updated_at"]
    fields = ["user", "client", "scope", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
