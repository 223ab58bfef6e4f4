"""``manage.py createclient``: register a client from the command line.

Meant for provisioning scripts and first-party apps, so with ``--json`` the
only thing on stdout is one JSON object a script can parse; warnings go to
stderr. The secret is printed once: only its hash is stored.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ...forms import DEFAULT_GRANT_TYPES, normalize_redirect_uris
from ...models import Client

# The command-line option that sets each model field, to name it in errors.
OPTION_OF_FIELD = {
    "name": "--name",
    "client_type": "--type",
    "grant_types": "--grant-type",
    "redirect_uris": "--redirect-uri",
    "scopes": "--scope",
    "skip_consent": "--skip-consent",
    "allow_introspection": "--allow-introspection",
    "owner": "--owner",
}


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        # A property, not gettext_lazy: argparse needs a real str.
        return _("Register an OAuth client and print its client_id and (if confidential) secret.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help=_("Name shown to users on the consent screen."))
        parser.add_argument(
            "--type",
            dest="client_type",
            choices=Client.ClientType.values,
            default=Client.ClientType.CONFIDENTIAL,
            help=_("confidential (default) gets a secret; public clients use PKCE instead."),
        )
        parser.add_argument(
            "--grant-type",
            dest="grant_types",
            action="append",
            metavar="GRANT_TYPE",
            help=_("A grant type the client may use (repeatable). Default: %(default)s.")
            % {"default": " ".join(DEFAULT_GRANT_TYPES)},
        )
        parser.add_argument(
            "--redirect-uri",
            dest="redirect_uris",
            action="append",
            metavar="URI",
            help=_("A redirect URI, matched exactly (repeatable)."),
        )
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            metavar="SCOPE",
            help=_("A scope the client may request (repeatable). Default: every scope."),
        )
        parser.add_argument(
            "--skip-consent",
            action="store_true",
            help=_("Do not ask users to approve (first-party apps only)."),
        )
        parser.add_argument(
            "--allow-introspection",
            action="store_true",
            help=_("Let the client ask whether any token is active (resource servers only, RFC 7662)."),
        )
        parser.add_argument("--owner", metavar="USERNAME", help=_("The user who owns the client."))
        parser.add_argument(
            "--json",
            action="store_true",
            help=_('Print only {"client_id": ..., "client_secret": ...} on stdout.'),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grant_types = list(dict.fromkeys(options["grant_types"] or DEFAULT_GRANT_TYPES))
        client = Client(
            name=options["name"],
            client_type=options["client_type"],
            grant_types=grant_types,
            redirect_uris=normalize_redirect_uris("\n".join(options["redirect_uris"] or [])),
            scopes=list(dict.fromkeys(options["scopes"] or [])),
            skip_consent=options["skip_consent"],
            allow_introspection=options["allow_introspection"],
            owner=self.owner(options["owner"]),
        )
        secret = client.set_secret() if client.is_confidential else None
        # The model validates the name, website, grant types, scopes and each
        # redirect URI, as it does for the admin and the self-service page.
        try:
            client.full_clean()
        except ValidationError as error:
            message = self.describe(error)
            if options["grant_types"] is None and "redirect_uris" in getattr(error, "error_dict", {}):
                # Whoever left out --grant-type may not know the default needs a redirect URI.
                explained = _(
                    "No --grant-type given: the default, %(default)s, sends people back to a redirect URI."
                )
                message += "\n" + explained % {"default": " ".join(DEFAULT_GRANT_TYPES)}
            raise CommandError(message) from None
        client.save()

        # The same warnings the admin shows after saving.
        for warning in client.configuration_warnings():
            self.stderr.write(_("Warning: %(warning)s") % {"warning": warning})

        if options["json"]:
            self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
            return
        self.stdout.write(f"client_id: {client.client_id}")
        if secret is not None:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write(
                self.style.WARNING(
                    _("Store the client secret now: it will not be shown again (only its hash is kept).")
                )
            )

    def owner(self, username: str | None) -> Any:
        if username is None:
            return None
        user_model = get_user_model()
        try:
            return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(_("No user with username %(username)r.") % {"username": username}) from None

    @staticmethod
    def describe(error: ValidationError) -> str:
        """A ValidationError as one readable line per field, without a
        traceback, each line named by the option that sets the field."""
        if not hasattr(error, "error_dict"):
            return " ".join(error.messages)
        return "\n".join(
            f"{OPTION_OF_FIELD.get(field, field)}: {' '.join(messages)}"
            if field != "__all__"
            else " ".join(messages)
            for field, messages in error.message_dict.items()
        )
