from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthProviderConfig(AppConfig):
    name = "oauth_provider"
    verbose_name = _("OAuth provider")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the system checks
            password_change,  # noqa: F401 - connects the password change receivers
            receivers,  # noqa: F401 - connects the token cache's receivers
        )
