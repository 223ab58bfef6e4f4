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

from ... import primary
from ...forms import DEFAULT_GRANT_TYPES, normalize_redirect_uris
from ...models import Client, SigningKey
from ...settings import ACCESS_TOKEN_FORMAT_CHOICES, OPAQUE

# The command-line option that sets each model field, to name it in errors.
OPTION_OF_FIELD = {
    "name": "--name",
    "client_type": "--type",
    "grant_types": "--grant-type",
    "redirect_uris": "--redirect-uri",
    "allowed_origins": "--allowed-origin",
    "scopes": "--scope",
    "skip_consent": "--skip-consent",
    "allow_introspection": "--allow-introspection",
    "owner": "--owner",
    "post_logout_redirect_uris": "--post-logout-redirect-uri",
    "backchannel_logout_uri": "--backchannel-logout-uri",
    "id_token_signed_response_alg": "--id-token-alg",
    "subject_type": "--subject-type",
    "sector_identifier_uri": "--sector-identifier-uri",
    "access_token_format": "--access-token-format",
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
            "--allowed-origin",
            dest="allowed_origins",
            action="append",
            metavar="ORIGIN",
            help=_(
                "A web origin whose pages may call the token endpoint, such as https://app.example.com "
                "(repeatable; those of the redirect URIs need not be given)."
            ),
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
        # OpenID Connect (RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0
        # §2.2, Registration 1.0 §2, Core §8). Choices are the model's, checked
        # by full_clean like every other value, so errors read the same.
        parser.add_argument(
            "--post-logout-redirect-uri",
            dest="post_logout_redirect_uris",
            action="append",
            metavar="URI",
            help=_("Where users may be sent after signing out, matched exactly (repeatable)."),
        )
        parser.add_argument(
            "--backchannel-logout-uri",
            metavar="URI",
            help=_("Where the server posts a logout token when a user signs out."),
        )
        parser.add_argument(
            "--id-token-alg",
            metavar="ALGORITHM",
            help=_("The algorithm that signs the client's ID tokens: %(choices)s. Default: %(default)s.")
            % {
                "choices": ", ".join(SigningKey.Algorithm.values),
                "default": Client._meta.get_field("id_token_signed_response_alg").default,
            },
        )
        parser.add_argument(
            "--subject-type",
            metavar="TYPE",
            help=_(
                "public (one identifier for every client) or pairwise (one per sector). Default: %(default)s."
            )
            % {"default": "OIDC_DEFAULT_SUBJECT_TYPE"},
        )
        parser.add_argument(
            "--sector-identifier-uri",
            metavar="URI",
            help=_("Pairwise clients: the https URL whose host names the sector (OpenID Connect Core §8.1)."),
        )
        parser.add_argument(
            "--access-token-format",
            choices=[value for value, _label in ACCESS_TOKEN_FORMAT_CHOICES],
            default=OPAQUE,
            help=_(
                "opaque (default): random values looked up on each use; jwt: signed JWTs (RFC 9068) "
                "resource servers validate without a lookup, short-lived. A resource that declares a "
                "format decides for its tokens."
            ),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_('Print only {"client_id": ..., "client_secret": ...} on stdout.'),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grant_types = list(dict.fromkeys(options["grant_types"] or DEFAULT_GRANT_TYPES))
        # Left out, these keep the model's defaults (RS256, OIDC_DEFAULT_SUBJECT_TYPE).
        chosen = {
            "id_token_signed_response_alg": options["id_token_alg"],
            "subject_type": options["subject_type"],
        }
        client = Client(
            name=options["name"],
            client_type=options["client_type"],
            grant_types=grant_types,
            redirect_uris=normalize_redirect_uris("\n".join(options["redirect_uris"] or [])),
            allowed_origins=normalize_redirect_uris("\n".join(options["allowed_origins"] or [])),
            scopes=list(dict.fromkeys(options["scopes"] or [])),
            skip_consent=options["skip_consent"],
            allow_introspection=options["allow_introspection"],
            owner=self.owner(options["owner"]),
            post_logout_redirect_uris=normalize_redirect_uris(
                "\n".join(options["post_logout_redirect_uris"] or [])
            ),
            backchannel_logout_uri=options["backchannel_logout_uri"] or "",
            sector_identifier_uri=options["sector_identifier_uri"] or "",
            access_token_format=options["access_token_format"],
            **{field: value for field, value in chosen.items() if value is not None},
        )
        secret = client.set_secret() if client.is_confidential else None
        # The model validates the name, website, grant types, scopes, each
        # redirect URI and the OpenID Connect values, as it does for the admin
        # and the self-service page.
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
            users = user_model._default_manager.db_manager(primary.alias(user_model))
            return users.get(**{user_model.USERNAME_FIELD: username})
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
