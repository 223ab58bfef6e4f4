"""Chromium (Playwright) steps through the provider's pages, as a person takes them."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD


def sign_in(page: Any, url: str, user: Any, *, until: str) -> str:
    """Open ``url`` (a relying party's sign-in link or an authorization
    request), log in as ``user`` if asked, approve if asked, and wait until
    the browser reaches a URL starting with ``until``; return that URL."""
    page.goto(url)
    if page.locator("#id_password").count():
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
    if not page.url.startswith(until) and page.locator("button[value=allow]").count():
        with page.expect_navigation():
            page.click("button[value=allow]")
    page.wait_for_url(lambda current: current.startswith(until))
    return page.url
