"""``manage.py rotatekeys``: rotate, list and re-encrypt the signing keys of
ID tokens and logout tokens (OpenID Connect Core 1.0 §10.1.1).

By default each algorithm of ``OIDC_SIGNING_ALGORITHMS`` gets a new key that
JWKS publishes at once and that signs only after
``OIDC_KEY_ACTIVATION_DELAY_SECONDS``, so relying parties' cached key sets
learn it first; the key it replaces retires then and stays published until
the tokens it signed have expired. No restart, no failed validation.

``--now`` is for a compromised key: the new key signs at once (relying
parties that cached the key set fetch it again on an unknown ``kid``), and
``--drop-retired`` also unpublishes the old keys, so that tokens signed with
them, including forged ones, stop validating.

``--reencrypt`` is for after a ``SECRET_KEY`` (or
``OIDC_KEY_ENCRYPTION_SECRET``) rotation: it encrypts the private parts again
with the new secret, after which the old one can leave the fallbacks.

Keys listed in ``OIDC_SIGNING_KEYS`` are managed outside Django: ``--list``
shows them, nothing else touches them.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import clock, signing_keys
from ...models import SigningKey
from ...settings import oauth_settings


def seconds(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        # A property, not gettext_lazy: argparse needs a real str.
        return _(
            "Make new signing keys that sign after the activation delay (published at once), "
            "list the keys, or re-encrypt them after a SECRET_KEY rotation."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--algorithm",
            dest="algorithms",
            action="append",
            choices=signing_keys.ALGORITHMS,
            metavar="ALGORITHM",
            help=_(
                "Rotate only this algorithm's key (repeatable). Default: each of OIDC_SIGNING_ALGORITHMS."
            ),
        )
        when = parser.add_mutually_exclusive_group()
        when.add_argument(
            "--delay",
            type=seconds,
            metavar="SECONDS",
            help=_("Seconds before the new keys sign. Default: OIDC_KEY_ACTIVATION_DELAY_SECONDS."),
        )
        when.add_argument(
            "--now",
            action="store_true",
            help=_("The new keys sign at once (a compromised key)."),
        )
        parser.add_argument(
            "--drop-retired",
            action="store_true",
            help=_(
                "With --now: stop publishing the replaced keys at once. Tokens they signed stop validating."
            ),
        )
        task = parser.add_mutually_exclusive_group()
        task.add_argument(
            "--list",
            action="store_true",
            help=_("List the keys (never their private part) and change nothing."),
        )
        task.add_argument(
            "--reencrypt",
            action="store_true",
            help=_("Encrypt the private keys again with the current secret, after a SECRET_KEY rotation."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rotating = options["algorithms"] or options["delay"] is not None or options["now"]
        if (options["list"] or options["reencrypt"]) and (rotating or options["drop_retired"]):
            raise CommandError(_("--list and --reencrypt take no rotation options."))
        if options["list"]:
            self.list_keys()
            return
        if oauth_settings.OIDC_SIGNING_KEYS:
            raise CommandError(
                _(
                    "OAUTH_PROVIDER['OIDC_SIGNING_KEYS'] is set: the keys are managed outside Django. "
                    'Rotate them there (add the new key with "active": False, then make it active).'
                )
            )
        if options["reencrypt"]:
            self.reencrypt()
            return
        if options["drop_retired"] and not options["now"]:
            # Until the new keys sign, the old ones do: their tokens must keep validating.
            raise CommandError(_("--drop-retired needs --now: the replaced keys sign until the new ones do."))
        self.rotate(options["algorithms"], options["delay"], now=options["now"], drop=options["drop_retired"])

    def rotate(self, algorithms: list[str] | None, delay: int | None, *, now: bool, drop: bool) -> None:
        configured = oauth_settings.OIDC_SIGNING_ALGORITHMS
        unconfigured = [algorithm for algorithm in algorithms or () if algorithm not in configured]
        if unconfigured:
            raise CommandError(
                _("Not in OIDC_SIGNING_ALGORITHMS (%(configured)s): %(algorithms)s.")
                % {"configured": ", ".join(configured), "algorithms": ", ".join(unconfigured)}
            )
        if now:
            delay = 0
        chosen = list(dict.fromkeys(algorithms or configured))
        keys = signing_keys.rotate(chosen, delay=None if delay is None else timedelta(seconds=delay))
        for key in keys:
            self.stdout.write(
                _("New %(algorithm)s key %(kid)s: published now, signs from %(activates_at)s.")
                % {"algorithm": key.algorithm, "kid": key.kid, "activates_at": moment(key.activates_at)}
            )
        if drop:
            dropped = signing_keys.drop_retired(chosen)
            self.stderr.write(
                self.style.WARNING(
                    ngettext(
                        "%(count)d retired key is no longer published: the ID tokens and logout tokens it "
                        "signed no longer validate.",
                        "%(count)d retired keys are no longer published: the ID tokens and logout tokens "
                        "they signed no longer validate.",
                        dropped,
                    )
                    % {"count": dropped}
                )
            )
        elif now:
            self.stderr.write(
                self.style.WARNING(
                    _(
                        "The new keys sign at once: relying parties that cached the key set must fetch it "
                        "again (most do on an unknown kid). Tokens the old keys signed stay valid; add "
                        "--drop-retired if those keys are compromised."
                    )
                )
            )

    def list_keys(self) -> None:
        """One line per key: kid, algorithm, state and times; never the private part."""
        header = (_("kid"), _("algorithm"), _("state"), _("created"), _("signs from"), _("retired"))
        rows: list[tuple[str, ...]] = []
        if oauth_settings.OIDC_SIGNING_KEYS:
            for key in signing_keys.published_keys():
                state = _("active") if key.signing else _("published, not signing")
                rows.append((key.kid, key.algorithm, str(state), "-", "-", "-"))
        else:
            now = clock.now()
            for row in SigningKey.objects.order_by("-activates_at", "algorithm"):
                rows.append(
                    (
                        row.kid,
                        row.algorithm,
                        self.state(row, now),
                        moment(row.created_at),
                        moment(row.activates_at),
                        moment(row.retired_at),
                    )
                )
        widths = [max(len(str(line[column])) for line in [header, *rows]) for column in range(len(header))]
        for line in [header, *rows]:
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            )

    @staticmethod
    def state(row: SigningKey, now: datetime) -> str:
        state = str(SigningKey.State(row.state_at(now)).label)
        if row.expires_at is None:
            return state
        if row.expires_at <= now:
            return _("%(state)s, no longer published") % {"state": state}
        return _("%(state)s, published until %(moment)s") % {"state": state, "moment": moment(row.expires_at)}

    def reencrypt(self) -> None:
        count, unreadable = signing_keys.reencrypt_keys()
        self.stdout.write(
            ngettext(
                "Re-encrypted %(count)d key with the current secret.",
                "Re-encrypted %(count)d keys with the current secret.",
                count,
            )
            % {"count": count}
        )
        now = clock.now()
        needed = [row for row in unreadable if row.state_at(now) != SigningKey.State.RETIRED]
        for row in unreadable:
            self.stderr.write(
                _("Key %(kid)s (%(algorithm)s, %(state)s): no configured secret decrypts it.")
                % {"kid": row.kid, "algorithm": row.algorithm, "state": self.state(row, now)}
            )
        if needed:
            raise CommandError(
                _(
                    "Keys that sign (or will) cannot be decrypted. Put the old secret back among the "
                    "fallbacks and run this again, or replace them with: manage.py rotatekeys --now"
                )
            )
