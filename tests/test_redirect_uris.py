"""Redirect URI registration rules and exact matching (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §4.1.3)."""

import pytest
from django.core.exceptions import ValidationError

from oauth_provider.redirect_uris import redirect_uri_matches, validate_redirect_uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://client.example.com/callback",
        "https://client.example.com:8443/callback?tenant=1",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8080/callback",
        "http://[::1]/callback",
        "http://[::1]:8080/callback",
        "http://localhost/callback",
        "http://localhost:3000/callback",
        "com.example.app:/callback",
        "com.example.app://callback",
    ],
)
def test_valid_redirect_uri_is_accepted(uri):
    validate_redirect_uri(uri)


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("/callback", "invalid"),
        ("callback", "invalid"),
        ("//client.example.com/callback", "invalid"),
        ("https://client.example.com/callback#frag", "fragment"),
        ("https://client.example.com/callback#", "fragment"),
        ("https://*.example.com/callback", "wildcard"),
        ("https://client.example.com/*", "wildcard"),
        ("http://client.example.com/callback", "insecure"),
        ("http://localhost.example.com/callback", "insecure"),
        ("http://10.0.0.1/callback", "insecure"),
        ("http://127.0.0.1@evil.example.com/callback", "insecure"),
        ("javascript:alert(1)", "scheme"),
        ("JavaScript:alert(1)", "scheme"),
        ("data:text/html,<script>alert(1)</script>", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("myapp:/callback", "scheme"),
        ("ftp://client.example.com/callback", "scheme"),
        ("https:///callback", "host"),
        ("https://client.example.com/call back", "invalid"),
        (" https://client.example.com/callback", "invalid"),
        ("https://client.example.com/callback\n", "invalid"),
        ("https://client.example.com/\tcallback", "invalid"),
        ("https://client.example.com:port/callback", "invalid"),
        ("https://client.example.com:99999/callback", "invalid"),
        ("http://127.0.0.1:-1/callback", "invalid"),
        ("https://[::1/callback", "invalid"),
        ("", "invalid"),
    ],
)
def test_invalid_redirect_uri_is_rejected(uri, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_redirect_uri(uri)
    assert excinfo.value.code == code


REGISTERED = ["https://client.example.com/callback"]


def test_exact_match():
    assert redirect_uri_matches("https://client.example.com/callback", REGISTERED)


def test_matches_any_of_several_registered_uris():
    registered = ["https://a.example.com/cb", "https://client.example.com/callback"]
    assert redirect_uri_matches("https://client.example.com/callback", registered)


def test_accepts_any_iterable_of_registered_uris():
    assert redirect_uri_matches("https://client.example.com/callback", iter(REGISTERED))


def test_nothing_matches_no_registered_uris():
    assert not redirect_uri_matches("https://client.example.com/callback", [])


@pytest.mark.parametrize(
    "requested",
    [
        "https://client.example.com/callback/",
        "https://client.example.com/callbackx",
        "https://client.example.com/callback/../callback",
        "https://client.example.com/other",
        "https://client.example.com:443/callback",
        "https://client.example.com:8443/callback",
        "HTTPS://client.example.com/callback",
        "http://client.example.com/callback",
        "https://client.example.com/callback?next=/admin",
        "https://client.example.com/callback?",
        "https://user@client.example.com/callback",
        "https://Client.Example.com/callback",
        "https://client.example.com.evil.com/callback",
        "https://client.example.com/callback#frag",
        "https://client.example.com/CALLBACK",
        "https://client.example.com/call%62ack",
        "",
    ],
)
def test_anything_but_an_exact_match_fails(requested):
    assert not redirect_uri_matches(requested, REGISTERED)


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://127.0.0.1:51234/callback", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:51234/callback", "http://127.0.0.1:8080/callback"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:8080/callback"),
        ("http://[::1]:51234/callback", "http://[::1]/callback"),
        ("http://[::1]:51234/callback", "http://[::1]:8080/callback"),
        ("http://[::1]/callback", "http://[::1]:8080/callback"),
        ("http://127.0.0.1:51234/callback?x=1", "http://127.0.0.1/callback?x=1"),
    ],
)
def test_loopback_ip_may_use_any_port(requested, registered):
    # RFC 8252 §7.3: "MUST allow any port to be specified [...] for loopback IP redirect URIs".
    assert redirect_uri_matches(requested, [registered])


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://localhost:51234/callback", "http://localhost/callback"),
        ("http://localhost:51234/callback", "http://localhost:8080/callback"),
    ],
)
def test_localhost_does_not_get_the_port_relaxation(requested, registered):
    assert not redirect_uri_matches(requested, [registered])


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://127.0.0.1:51234/callback/", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:51234/other", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:51234/callback?x=1", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:51234/callback", "http://127.0.0.1/callback?x=1"),
        ("http://[::1]:51234/Callback", "http://[::1]/callback"),
        ("http://127.0.0.1:51234/callback", "http://[::1]/callback"),
        ("http://127.0.0.2:51234/callback", "http://127.0.0.1/callback"),
        ("http://user@127.0.0.1:51234/callback", "http://127.0.0.1/callback"),
        ("http://127.0.0.1:port/callback", "http://127.0.0.1/callback"),
        ("https://127.0.0.1:51234/callback", "https://127.0.0.1/callback"),
        ("HTTP://127.0.0.1:51234/callback", "http://127.0.0.1/callback"),
        ("https://127.0.0.1:51234/callback", "http://127.0.0.1/callback"),
    ],
)
def test_loopback_path_query_host_and_scheme_still_match_exactly(requested, registered):
    assert not redirect_uri_matches(requested, [registered])


def test_private_use_scheme_matches_exactly():
    registered = ["com.example.app:/callback"]
    assert redirect_uri_matches("com.example.app:/callback", registered)
    assert not redirect_uri_matches("com.example.app://callback", registered)
    assert not redirect_uri_matches("com.example.App:/callback", registered)


# -- nothing that could mislead the person reading it (issue 10) ------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://xn--bcher-kva.example/callback",  # an internationalized host in its ASCII form
        "https://client.example.com/callback?state=a%20b",
        "https://[2001:db8::1]/callback",
        "com.example.app:/oauth2redirect/example-provider",  # RFC 8252 §7.1's own example
        "com.googleusercontent.apps.123:/oauth2redirect",
        "io.x-y.app:/cb",
    ],
)
def test_unambiguous_uris_are_accepted(uri):
    validate_redirect_uri(uri)


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("https://client.example.com@evil.example/callback", "userinfo"),
        ("https://user:pass@client.example.com/callback", "userinfo"),
        ("com.example.app://user@callback", "userinfo"),
        ("https://evil.example\\@client.example.com/callback", "backslash"),
        ("https://client.example.com\\callback", "backslash"),
        ("https://b\u00fccher.example/callback", "non_ascii"),
        ("https://client.example.com/caf\u00e9", "non_ascii"),
        ("https://client.example.com/cb\u202e", "non_ascii"),
        ("https://client.example.com/c<b>", "characters"),
        ('https://client.example.com/"cb"', "characters"),
        ("https://client.example.com/%zz", "characters"),
        ("https://client.example.com/%", "characters"),
        ("https://client.example.com/\x7f", "characters"),
        ("HTTPS://client.example.com/callback", "case"),
        ("Com.Example.App:/callback", "case"),
        ("https://Client.example.com/callback", "case"),
        ("https://paypaI.example/callback", "case"),
        ("https://client_example.com/callback", "host"),
        ("https://client.example.com./callback", "host"),
        ("https://-client.example.com/callback", "host"),
        ("a.b:", "scheme"),
        ("x.y:/callback", "scheme"),
        ("com.example.app:", "scheme"),
        ("com.example.app:callback", "scheme"),
        ("1com.example.app:/callback", "invalid"),
        ("com..app:/callback", "scheme"),
        ("com.example-.app:/callback", "scheme"),
        ("https://client.example.com/" + "a" * 500, "too_long"),
    ],
)
def test_misleading_uri_is_rejected(uri, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_redirect_uri(uri)
    assert excinfo.value.code == code
