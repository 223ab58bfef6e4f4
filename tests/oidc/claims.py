"""A claims provider for a site that knows more than Django's user model:
a postal address and a phone number (say, from a profile model), and which
e-mail addresses it verified. The certification suite's scope checks
(oidcc-scope-address, oidcc-scope-phone) run with it, as the README's
"Claims" section shows a site doing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from oauth_provider.claims import UserClaims
from oauth_provider.models import Client

ADDRESS = {
    "street_address": "12 St James's Square",
    "locality": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
PHONE_NUMBER = "+44 20 7946 0000"


class ProfileClaims(UserClaims):
    def get_claims(self, user: AbstractBaseUser, client: Client) -> dict[str, Any]:
        claims = super().get_claims(user, client)
        claims.update(address=ADDRESS, phone_number=PHONE_NUMBER, phone_number_verified=False)
        return claims

    def email_verified(self, user: AbstractBaseUser) -> bool | None:
        return True
