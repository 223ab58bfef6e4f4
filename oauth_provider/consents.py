"""What users have granted clients: remembered, listed, and withdrawn.

A ``Consent`` row is the user's standing permission for a client. The consent
screen records it (``record_consent``), later requests for no more than it
covers skip the screen, and the user (on the authorized-apps page) or an admin
can withdraw it, which also ends everything the client holds for that user.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import DateTimeField, Max, OuterRef, QuerySet, Subquery

from . import clock, primary
from .backchannel_logout import end_sign_ins
from .models import AccessToken, Client, Consent, SignIn
from .models.base import get_or_none
from .revocation import RevocationReason, end_grants
from .scopes import format_scope
from .settings import oauth_settings


def previous_consent(client: Client, user: AbstractBaseUser) -> Consent | None:
    """What ``user`` granted ``client`` before, if anything."""
    return get_or_none(Consent.objects.filter(user=user, client=client))


@primary.atomic(Consent)
def record_consent(
    user: AbstractBaseUser,
    client: Client,
    scopes: list[str],
    resources: list[str],
    *,
    now: datetime | None = None,
) -> Consent:
    """Remember that ``user`` granted ``scopes`` for ``resources`` (the
    audience the screen named, RFC 8707) to ``client``, added to any earlier
    consent (used by every grant the user approves on a consent screen)."""
    now = now or clock.now()
    consent, created = Consent.objects.select_for_update().get_or_create(
        user=user,
        client=client,
        defaults={"scope": format_scope(scopes), "resources": format_scope(resources), "created_at": now},
    )
    if not created:
        consent.scope = format_scope(dict.fromkeys(consent.scopes + scopes))
        consent.resources = format_scope(dict.fromkeys(consent.audience + resources))
        consent.updated_at = now
        consent.save(update_fields=["scope", "resources", "updated_at"])
    return consent


def authorized_apps(user: AbstractBaseUser) -> QuerySet[Consent]:
    """The user's consents with their clients, newest first, in one query.

    Each carries ``last_used``: when the client last obtained an access token
    for this user (a code exchange, a refresh, a device poll). Protected API
    requests are not recorded, since that would cost every one of them a
    write; with one-hour access tokens, a client in use refreshes at least
    that often.
    """
    last_token = (
        AccessToken.objects.filter(client=OuterRef("client"), user=OuterRef("user"))
        .order_by()
        .values("client")
        .annotate(latest=Max("created_at"))
        .values("latest")
    )
    return (
        Consent.objects.filter(user=user)
        .select_related("client")
        .annotate(last_used=Subquery(last_token, output_field=DateTimeField()))
        .order_by("-updated_at", "-pk")
    )


@primary.atomic(Consent)
def withdraw_consent(consent: Consent, *, issuer: str | None = None) -> int:
    """Forget the consent and end everything its client holds for the user
    (``revocation.end_grants``); return how many tokens were revoked.

    The user's sign-ins with the client end too, and a client with a
    ``backchannel_logout_uri`` is sent a logout token for each session
    (Back-Channel Logout 1.0), issued by ``issuer`` (default: the ``ISSUER``
    setting).
    """
    count = end_grants(
        client=consent.client_id, user=consent.user_id, reason=RevocationReason.CONSENT_WITHDRAWN
    )
    end_sign_ins(
        SignIn.objects.filter(client=consent.client_id, user=consent.user_id),
        issuer=issuer or oauth_settings.ISSUER,
        revoke=False,  # end_grants revoked every token
    )
    consent.delete()
    return count
