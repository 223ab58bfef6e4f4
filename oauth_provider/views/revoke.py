"""Placeholder until the endpoint is built."""

from .base import ProtocolView


class RevokeView(ProtocolView):
    pass
