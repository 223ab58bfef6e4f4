"""Subject identifiers (OpenID Connect Core 1.0 §8)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Subject(models.Model):
    """A user's identifiers towards clients, made once and never changed.

    ``public_id`` is the ``sub`` of public-subject clients: random, so it
    neither reveals the database key nor depends on a secret that may be
    rotated. ``pairwise_salt`` makes the ``sub`` of pairwise clients
    (§8.1); it is never sent anywhere, so no client can link a pairwise
    ``sub`` to a public one.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="oauth_subject",
        verbose_name=_("user"),
    )
    public_id = models.CharField(_("public subject"), max_length=64, unique=True, editable=False)
    pairwise_salt = models.CharField(_("pairwise salt"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("subject identifier")
        verbose_name_plural = _("subject identifiers")

    def __str__(self) -> str:
        return self.public_id
