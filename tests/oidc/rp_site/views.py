from django.http import HttpRequest, HttpResponse
from django.template import engines

PAGE = engines["django"].from_string(
    """<!doctype html><title>Relying party</title>
{% if user.is_authenticated %}
<p id="user">Signed in as <b id="username">{{ user.username }}</b>
(<span id="email">{{ user.email }}</span>)</p>
<form method="post" action="{% url 'oidc_logout' %}">{% csrf_token %}
<button id="sign-out">Sign out</button></form>
{% else %}
<p id="anonymous">Not signed in.</p>
<a id="sign-in" href="{% url 'oidc_authentication_init' %}">Sign in with our provider</a>
{% endif %}"""
)


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.render({"user": request.user}, request))
