"""DRF permissions that enforce token scopes (RFC 6750 §3.1).

    class NotesView(APIView):
        permission_classes = [HasScope]
        required_scopes = {"GET": ["read"], "POST": ["write"]}   # or ["read"]

Too few scopes answer 403 with ``WWW-Authenticate: Bearer
error="insufficient_scope", scope="..."``. The classes compose with ``&`` and
``|``; because they raise to attach that header, put them last in an ``|``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..bearer import BearerToken, challenge

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class InsufficientScope(PermissionDenied):
    default_detail = _("The access token does not grant the scope this request needs.")
    default_code = "insufficient_scope"

    def __init__(self, scopes: Iterable[str]) -> None:
        super().__init__()
        # DRF copies auth_header into WWW-Authenticate.
        self.auth_header = challenge(error="insufficient_scope", scope=scopes)


class TokenScopePermission(BasePermission):
    """Allows a request whose access token holds every scope it requires."""

    def required_scopes(self, request: Request, view: APIView) -> list[str]:
        raise NotImplementedError("TokenScopePermission subclasses must implement required_scopes().")

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, BearerToken):
            # No bearer token: DRF answers 401 with our authenticate_header.
            return False
        required = self.required_scopes(request, view)
        if not set(required) <= set(token.scopes):
            raise InsufficientScope(required)
        return True


def declared_scopes(request: Request, view: APIView, *, required: bool) -> list[str]:
    """The scopes a view's ``required_scopes`` names for this request.

    A list applies to every method; a dict maps HTTP method -> list (HEAD and
    OPTIONS fall back to GET, as they only describe what GET returns). A
    method the view implements but the dict leaves out is refused when the
    scopes are ``required``, and needs nothing extra otherwise.
    """
    declared = getattr(view, "required_scopes", None)
    if isinstance(declared, Mapping):
        method = request.method or ""
        if method not in declared and method in ("HEAD", "OPTIONS"):
            method = "GET"
        if method not in declared and required and hasattr(view, method.lower()):
            raise PermissionDenied
        # A method the view does not implement needs nothing: DRF answers 405.
        declared = declared.get(method, [])
    if declared is None and not required:
        return []
    if not is_scope_list(declared):
        raise ImproperlyConfigured(
            f"{type(view).__name__}.required_scopes must be a list of scope names, "
            "or a dict of HTTP method -> list."
        )
    return list(declared)


def is_scope_list(value: object) -> bool:
    """Whether ``value`` has the shape of a list of scope names: any iterable but a string."""
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


class HasScope(TokenScopePermission):
    """Scopes from the view's ``required_scopes``: a list, or a dict keyed by
    HTTP method (a method missing from the dict is refused)."""

    def required_scopes(self, request: Request, view: APIView) -> list[str]:
        return declared_scopes(request, view, required=True)


class HasReadWriteScope(TokenScopePermission):
    """``read`` for safe methods (GET, HEAD, OPTIONS), ``write`` for the rest,
    plus whatever the view's optional ``required_scopes`` adds."""

    read_scope = "read"
    write_scope = "write"

    def required_scopes(self, request: Request, view: APIView) -> list[str]:
        scope = self.read_scope if request.method in SAFE_METHODS else self.write_scope
        return [scope, *declared_scopes(request, view, required=False)]
