"""``manage.py setupdemo``: demo accounts, a demo client and a ready-made authorization URL.

Run after ``migrate``; safe to run again. The client secret is stored only as a
hash, so every run gives the demo client a new secret in order to print it (the
previous one stops working).
"""

from __future__ import annotations

import secrets
import shlex
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from oauth_provider.metadata import origin
from oauth_provider.models import Client
from oauth_provider.pkce import S256, s256
from oauth_provider.settings import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    DEVICE_CODE,
    REFRESH_TOKEN,
    oauth_settings,
)

# Demo-only credentials: printed on purpose, never for a real deployment.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password"  # noqa: S105

CLIENT_NAME = "Demo client"
SCOPES = ["read", "write"]
# OpenID Connect (sign-in, name, e-mail), given to the demo client when the
# site offers them, as the example settings do.
OPENID_SCOPES = ["openid", "profile", "email"]
# Used when OAUTH_PROVIDER has no ISSUER (the example settings always set one).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Create (or refresh) the demo user, admin and demo client, and print how to try the flow."

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = self.base_url()
        redirect_uri = base_url + reverse("callback")
        with transaction.atomic():
            self.ensure_user(DEMO_USERNAME, DEMO_PASSWORD, superuser=False)
            self.ensure_user(ADMIN_USERNAME, ADMIN_PASSWORD, superuser=True)
            client, secret = self.ensure_client(redirect_uri)

        # RFC 7636 §4.1: a verifier of 43-128 unreserved characters (48 bytes -> 64).
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(16)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(client.scopes),
                "state": state,
                "code_challenge": s256(verifier),
                "code_challenge_method": S256,
            }
        )
        authorize_url = f"{base_url}{reverse('oauth_provider:authorize')}?{query}"
        token_url = base_url + reverse("oauth_provider:token")
        me_url = base_url + reverse("api-me")
        notes_url = base_url + reverse("api-notes")
        lifetime = oauth_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS

        lines = [
            self.style.MIGRATE_HEADING("Demo accounts (demo only, never use these anywhere else)"),
            f"  user:  {DEMO_USERNAME} / {DEMO_PASSWORD}",
            f"  admin: {ADMIN_USERNAME} / {ADMIN_PASSWORD}   ({base_url}{reverse('admin:index')})",
            "",
            self.style.MIGRATE_HEADING(
                f'Client "{client.name}" (a new secret was issued; older ones no longer work)'
            ),
            "  Paste into your shell:",
            "",
            f"export CLIENT_ID={shlex.quote(client.client_id)}",
            f"export CLIENT_SECRET={shlex.quote(secret)}",
            f"export VERIFIER={shlex.quote(verifier)}",
            "",
            self.style.MIGRATE_HEADING(
                f"1. With the server running (manage.py runserver), open this URL, "
                f"sign in as {DEMO_USERNAME} and approve:"
            ),
            "",
            authorize_url,
            "",
            self.style.MIGRATE_HEADING(
                f"2. Exchange the code from {redirect_uri} (valid {lifetime} s, works once):"
            ),
            "",
            f'curl -s -u "$CLIENT_ID:$CLIENT_SECRET" {token_url} \\',
            "  -d grant_type=authorization_code -d code=CODE \\",
            f'  -d redirect_uri={redirect_uri} -d code_verifier="$VERIFIER"',
            "",
            self.style.MIGRATE_HEADING("3. Call the API with the access_token from the answer:"),
            "",
            "export ACCESS_TOKEN=...",
            f'curl -s -H "Authorization: Bearer $ACCESS_TOKEN" {me_url}',
            f'curl -s -H "Authorization: Bearer $ACCESS_TOKEN" {notes_url} \\',
            """  -H "Content-Type: application/json" -d '{"text": "Hello from the demo"}'""",
        ]
        self.stdout.write("\n".join(lines))

    def base_url(self) -> str:
        """The site's origin, from the issuer (the example site serves at its root)."""
        return origin(oauth_settings.ISSUER or DEFAULT_BASE_URL)

    def ensure_user(self, username: str, password: str, *, superuser: bool) -> AbstractBaseUser:
        User = get_user_model()
        user, _created = User.objects.get_or_create(**{User.USERNAME_FIELD: username})
        user.set_password(password)
        user.is_active = True
        user.is_staff = superuser
        user.is_superuser = superuser
        user.save()
        return user

    def ensure_client(self, redirect_uri: str) -> tuple[Client, str]:
        """The demo client, configured as the demo needs, with a fresh secret."""
        client = Client.objects.filter(name=CLIENT_NAME).order_by("pk").first() or Client(name=CLIENT_NAME)
        client.client_type = Client.ClientType.CONFIDENTIAL
        # Every grant the README walks through with curl.
        client.grant_types = [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS, DEVICE_CODE]
        client.redirect_uris = redirect_uri
        client.scopes = [name for name in OPENID_SCOPES if name in oauth_settings.SCOPES] + SCOPES
        client.is_active = True
        secret = client.set_secret()
        try:
            client.full_clean()
        except ValidationError as error:
            # e.g. OAUTH_PROVIDER["SCOPES"] without read and write.
            raise CommandError(f"The demo client is not valid with these settings: {error}") from None
        client.save()
        return client, secret
