"""URLs and middleware of ``tests.stream_site``: the example API, and on
every response which worker answered and what its stream state was.

``X-Worker``: the process id. ``X-Trusted``: whether the worker trusted its
revocation stream when the request came in. ``X-Remembered``: whether it
holds the request's token in memory once the request is done.
"""

import os
from pathlib import Path

from django.urls import include, path

from example_project.api.views import MeView
from oauth_provider import revocation_stream
from oauth_provider.crypto import hash_secret
from oauth_provider.revocation_stream import engines

urlpatterns = [
    path("api/me/", MeView.as_view()),
    path("o/", include("oauth_provider.urls")),
]

GATE = os.environ.get("STREAM_SITE_GATE")


def _gated(subscribe):
    def gated(self):
        if GATE and not Path(GATE).exists():
            raise engines.SubscriptionLost("the test keeps this worker unsubscribed")
        return subscribe(self)

    return gated


engines.RedisEngine.subscribe = _gated(engines.RedisEngine.subscribe)
engines.PostgresEngine.subscribe = _gated(engines.PostgresEngine.subscribe)


def worker_headers(get_response):
    def middleware(request):
        trusted = revocation_stream.trusted()
        response = get_response(request)
        value = request.headers.get("Authorization", "").removeprefix("Bearer ")
        current = revocation_stream.stream()
        remembered = bool(value) and current is not None and hash_secret(value) in current.state.rows
        response["X-Worker"] = str(os.getpid())
        response["X-Trusted"] = str(trusted).lower()
        response["X-Remembered"] = str(remembered).lower()
        return response

    return middleware
