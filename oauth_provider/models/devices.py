from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..crypto import DEVICE_CODE_PREFIX
from .base import Credential


class DeviceAuthorization(Credential):
    """A device authorization request (RFC 8628 §3.1-§3.5).

    ``token_hash`` is the hash of the ``device_code`` the device polls with;
    the ``user_code`` the person types is stored only as a hash too (of its
    normalized form), so a database dump holds neither.
    """

    prefix = DEVICE_CODE_PREFIX

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the user")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")

    user_code_hash = models.CharField(_("user code hash"), max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Seconds the device must wait between polls; raised by each slow_down (§3.5).
    interval = models.PositiveIntegerField(_("polling interval"))
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # Set when the approved authorization was exchanged for tokens (once only).
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("device authorization")
        verbose_name_plural = _("device authorizations")
