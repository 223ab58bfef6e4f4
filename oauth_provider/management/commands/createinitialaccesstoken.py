"""``manage.py createinitialaccesstoken``: a token that lets software register
a client (RFC 7591 §3, ``REGISTRATION_POLICY`` ``"initial_access_token"``).

The token is printed once: only its hash is stored. With ``--json`` the only
thing on stdout is one JSON object a script can parse.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ... import clock
from ...models import InitialAccessToken
from ...settings import REGISTRATION_INITIAL_ACCESS_TOKEN, oauth_settings


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def lifetime(value: str) -> int:
    """A positive number of seconds whose expiry a ``datetime`` can hold
    (argparse reports the ValueError as an invalid value)."""
    seconds = positive(value)
    try:
        clock.now() + timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(value) from None
    return seconds


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("Create an initial access token for client registration (RFC 7591) and print it once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--description", required=True, help=_("Who it is for, so you can tell tokens apart.")
        )
        parser.add_argument(
            "--expires-in", type=lifetime, metavar="SECONDS", help=_("Lifetime in seconds. Default: none.")
        )
        parser.add_argument(
            "--max-uses",
            type=positive,
            metavar="N",
            help=_("How many clients it may register. Default: any."),
        )
        parser.add_argument("--json", action="store_true", help=_('Print only {"token": ...} on stdout.'))

    def handle(self, *args: Any, **options: Any) -> None:
        expires_in = options["expires_in"]
        token = InitialAccessToken(
            description=options["description"],
            expires_at=None if expires_in is None else clock.now() + timedelta(seconds=expires_in),
            max_uses=options["max_uses"],
        )
        value = token.set_token()
        try:
            token.full_clean()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        token.save()
        if oauth_settings.REGISTRATION_POLICY != REGISTRATION_INITIAL_ACCESS_TOKEN:
            self.stderr.write(
                _(
                    "Warning: REGISTRATION_POLICY is not %(policy)r, so the registration endpoint "
                    "does not ask for this token."
                )
                % {"policy": REGISTRATION_INITIAL_ACCESS_TOKEN}
            )
        if options["json"]:
            self.stdout.write(json.dumps({"token": value}))
            return
        self.stdout.write(f"initial_access_token: {value}")
        self.stdout.write(
            self.style.WARNING(_("Store the token now: it will not be shown again (only its hash is kept)."))
        )
