"""Subject identifiers: the ``sub`` claim a client sees (OpenID Connect Core 1.0 §8).

A *public* client sees the user's ``Subject.public_id``, the same for every
such client. A *pairwise* client sees a value of its own sector (§8.1): the
host of its ``sector_identifier_uri`` or, without one, of its redirect URIs
(which must then share one host; ``sector_identifiers``), so clients of one
sector can match users and no other client can. Neither reveals the database
key, and neither changes unless the client's sector does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError

from . import clock, primary
from .models import Client, Subject
from .redirect_uris import split_redirect_uris
from .sector_identifiers import sector_host


def subject_of(user: AbstractBaseUser) -> Subject:
    """The user's ``Subject``, made on first need (race-safe).

    Read through the user's reverse one-to-one relation, so it is kept on
    the user instance: one query per request however many claims need it,
    and none when the user came with ``select_related("oauth_subject")``.
    """
    try:
        return user.oauth_subject  # type: ignore[attr-defined]
    except Subject.DoesNotExist:
        pass
    try:
        with primary.atomic(Subject):
            # Creating it also keeps it on the user instance.
            return Subject.objects.create(
                user=user, public_id=secrets.token_urlsafe(24), pairwise_salt=secrets.token_urlsafe(32)
            )
    except IntegrityError:
        # Made by a concurrent request in the meantime.
        record = Subject.objects.using(primary.alias(Subject)).get(user=user)
        user.oauth_subject = record  # type: ignore[attr-defined]
        return record


def sector_identifier(client: Client) -> str:
    """The host §8.1 computes a pairwise ``sub`` for: that of the
    ``sector_identifier_uri``, else that of the redirect URIs (the first:
    ``Client.clean`` allows only one host). A client whose redirect URIs
    name no host of its own (loopback, private-use schemes), or that has
    none, is a sector of its own: its ``client_id``.

    Both as an admin approved them (``Client.approved_value``): an owner's
    change under review moves the client to no other sector until approved.
    """
    uri = client.approved_value("sector_identifier_uri")
    if uri:
        return urlsplit(uri).hostname or client.client_id
    uris = split_redirect_uris(client.approved_value("redirect_uris"))
    return (sector_host(uris[0]) if uris else None) or client.client_id


def subject(user: AbstractBaseUser, client: Client) -> str:
    """The ``sub`` ``client`` sees for ``user`` (Core §2, §8)."""
    return subject_for(subject_of(user), client)


def subject_for(record: Subject, client: Client) -> str:
    """The ``sub`` ``client`` sees for the user whose ``Subject`` is ``record``."""
    if client.subject_type != Client.SubjectType.PAIRWISE:
        return record.public_id
    digest = hmac.new(
        record.pairwise_salt.encode(), sector_identifier(client).encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def subjects_with_live_tokens(user_pk: object) -> list[str]:
    """Every ``sub`` a live access token of the user can carry: the public
    one and the pairwise one of each pairwise client holding such a token.
    Bounded by clients, not tokens (one query each for the subject and the
    clients). None made: a user without a ``Subject`` was never given a ``sub``.
    """
    # From the primary: a subject or token made a moment ago must not be missed.
    record = Subject.objects.using(primary.alias(Subject)).filter(user=user_pk).first()
    if record is None:
        return []
    pairwise = (
        Client.objects.using(primary.alias(Client))
        .filter(
            subject_type=Client.SubjectType.PAIRWISE,
            accesstoken__user=user_pk,
            accesstoken__revoked_at__isnull=True,
            accesstoken__expires_at__gt=clock.now(),
        )
        .distinct()
    )
    return list(dict.fromkeys([record.public_id, *(subject_for(record, client) for client in pairwise)]))
