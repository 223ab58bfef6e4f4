"""Placeholder until JWT access tokens land: no value is a JWT access token."""

from __future__ import annotations

from typing import Any


class InvalidAccessToken(Exception):
    pass


def looks_like_jwt(value: str) -> bool:
    return False


def local_claims(value: str, *, audience: str | None) -> dict[str, Any]:
    raise InvalidAccessToken
