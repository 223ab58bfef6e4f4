from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthProviderConfig(AppConfig):
    name = "oauth_provider"
    verbose_name = _("OAuth provider")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import (
            backchannel_logout,  # noqa: F401 - tells clients when a user signs out
            checks,  # noqa: F401 - registers the system checks
            login_sessions,  # noqa: F401 - records auth_time and sid at sign-in
            password_change,  # noqa: F401 - connects the password change receivers
            receivers,  # noqa: F401 - connects the revocation stream's and CORS receivers
        )

        post_migrate.connect(create_signing_keys, sender=self, dispatch_uid="oauth_provider.signing_keys")


def create_signing_keys(*, using: str, plan: list[Any] | None = None, **kwargs: Any) -> None:
    """After ``migrate``: the first signing keys, so ID tokens sign with no
    further step (OpenID Connect; nothing when it is off or keys exist)."""
    from .settings import oauth_settings
    from .signing_keys import ensure_keys

    if oauth_settings.OIDC_ENABLED and using == "default":
        ensure_keys(using=using)
