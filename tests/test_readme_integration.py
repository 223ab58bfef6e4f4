"""The README's "Add it to a project" steps, pasted into a fresh ``startproject``.

The snippets are read from README.md itself (each follows a
``<!-- snippet: NAME -->`` marker), applied to a project that
``django-admin startproject mysite`` makes in a temporary folder, and run as a
new user would: ``check``, ``migrate`` and ``createclient`` from the README,
``runserver`` as a real process on a free port, the login page (with the
OpenID Connect section's view that reads ``login_hint``), then the
README's Authlib script (client credentials, a protected request,
introspection) and its code flow (PKCE pair, consent, curl exchange, a
user-bound request).

The project runs on ``README_TEST_PYTHON`` when it is set: a Python whose
environment has the package installed and nothing of this checkout (CI
points it at a clean virtualenv holding only the built wheel, so that a
template or translation missing from the wheel fails here). Otherwise it runs
on this interpreter with this checkout first on ``PYTHONPATH``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polib
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SNIPPET = re.compile(r"<!-- snippet: (?P<name>.+?) -->\n```\w*\n(?P<body>.*?)```", re.DOTALL)
README_SITE = "http://127.0.0.1:8000"
PASSWORD = "a-long-test-password"
# An app msgid whose French translation only the app's compiled catalog has.
MSGID = "This will allow the app to:"

# An API view the project had before adding the app: it must keep its session login.
EXISTING_VIEW = """
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.get_username()})
"""
EXISTING_URLS = """
from mysite.existing import WhoAmI

urlpatterns += [path("api/whoami/", WhoAmI.as_view())]
"""
PACKAGE_DATA = f"""
import oauth_provider
from django.template.loader import get_template
from django.utils import translation

from oauth_provider.settings import oauth_settings

get_template("oauth_provider/authorize.html")
get_template("oauth_provider/device.html")
with translation.override("fr"):
    print(translation.gettext({MSGID!r}))
    # The README's SCOPES, translated by the app's catalog.
    print(oauth_settings.SCOPES["read"])
print(oauth_provider.__file__)
"""


def snippets() -> dict[str, str]:
    """README snippets by marker name; a name used twice is a README mistake."""
    found: dict[str, str] = {}
    for match in SNIPPET.finditer(README.read_text(encoding="utf-8")):
        assert match["name"] not in found, f"two README snippets are named {match['name']!r}"
        found[match["name"]] = match["body"]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Project:
    path: Path
    env: dict[str, str]
    url: str
    check_before_urls: subprocess.CompletedProcess
    check_after: subprocess.CompletedProcess
    credentials: dict[str, str]

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        """Run a command in the project (``env`` added to its environment); with
        ``check``, fail the test with the command's output when it fails."""
        result = subprocess.run(  # noqa: S603 - the README's own commands, in a throwaway project
            args, cwd=self.path, env={**self.env, **env}, capture_output=True, text=True, timeout=120
        )
        assert not check or result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
        return result


def project_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    python = os.environ.get("README_TEST_PYTHON")
    if python:
        # `python` in the README's commands is the one of that environment, which sees nothing else.
        env["PATH"] = f"{Path(python).parent}{os.pathsep}{env['PATH']}"
        env.pop("PYTHONPATH", None)
    else:
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        env["PYTHONPATH"] = str(ROOT)
    return env


def bash(project: Project, script: str) -> subprocess.CompletedProcess:
    return project.run("bash", "-euo", "pipefail", "-c", script)


def exported_names(script: str) -> list[list[str]]:
    """The variable names of each ``export A=… B=…`` line, in order."""
    return [
        [word.split("=", 1)[0] for word in shlex.split(line, comments=True)[1:]]
        for line in script.splitlines()
        if line.startswith("export ")
    ]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    found = snippets()
    path = tmp_path_factory.mktemp("readme") / "mysite"
    path.mkdir()
    env = project_environment()
    python = "python"
    subprocess.run(  # noqa: S603 - the README's own commands, in a throwaway project
        [python, "-m", "django", "startproject", "mysite", str(path)], env=env, check=True, timeout=60
    )
    project = Project(path, env, "", None, None, {})
    package = path / "mysite"
    with open(package / "settings.py", "a", encoding="utf-8") as settings:
        settings.write("\n" + found["mysite/settings.py"])
    # Before the URLs: the new project has no login page, which the check reports.
    project.check_before_urls = project.run(python, "manage.py", "check", check=False)
    (package / "existing.py").write_text(EXISTING_VIEW, encoding="utf-8")
    with open(package / "urls.py", "a", encoding="utf-8") as urls:
        urls.write(EXISTING_URLS + "\n" + found["mysite/urls.py"] + "\n" + found["mysite/urls.py (API)"])
        # The OpenID Connect section's login view, which reads login_hint.
        urls.write("\n" + found["mysite/urls.py (login_hint)"])
    (package / "api.py").write_text(found["mysite/api.py"], encoding="utf-8")
    template = path / "templates" / "registration" / "login.html"
    template.parent.mkdir(parents=True)
    template.write_text(found["templates/registration/login.html"], encoding="utf-8")
    project.check_after = project.run(python, "manage.py", "check", "--fail-level", "WARNING", check=False)

    created = bash(project, found["createclient"]).stdout
    clients = [json.loads(line) for line in created.splitlines() if line.startswith("{")]
    names = exported_names(found["exports"])
    assert len(names) == len(clients), "the README exports one line per client it creates"
    for (id_name, secret_name), client in zip(names, clients, strict=True):
        project.credentials[id_name] = client["client_id"]
        project.credentials[secret_name] = client["client_secret"]
    project.run(
        python,
        "manage.py",
        "createsuperuser",
        "--noinput",
        "--username",
        "alice",
        "--email",
        "alice@example.com",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )

    port = free_port()
    project.url = f"http://127.0.0.1:{port}"
    log = open(path / "runserver.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    server = subprocess.Popen(  # noqa: S603 - the README's own commands, in a throwaway project
        [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(project.url + "/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("runserver did not start:\n" + (path / "runserver.log").read_text())
                time.sleep(0.2)
        yield project
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_check_warns_that_a_new_project_has_no_login_page(project):
    assert "oauth_provider.W006" in project.check_before_urls.stderr


def test_check_is_clean_once_the_snippets_are_in(project):
    assert project.check_after.returncode == 0, project.check_after.stdout + project.check_after.stderr
    assert "System check identified no issues" in project.check_after.stdout


def test_every_variable_the_readme_uses_is_exported_by_it():
    found = snippets()
    exported = {name for names in exported_names(found["exports"]) for name in names}
    used = set(re.findall(r"os\.environ\[\"(\w+)\"\]", found["client.py"]))
    assert used == exported


def test_login_page_works_and_leads_back_to_the_app(project):
    session = requests.Session()
    page = session.get(project.url + "/accounts/login/?next=/o/device/", timeout=10)
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert "<title>Log in</title>" in page.text and "<h1>Log in</h1>" in page.text
    wrong = session.post(
        page.url,
        data={"username": "alice", "password": "wrong", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": page.url},
        timeout=10,
    )
    assert wrong.status_code == 200
    # Django's own (translated) message, in the page's alert.
    assert re.search(r'role="alert">\s*<ul class="errorlist nonfield"><li>Please enter a correct', wrong.text)
    signed_in = session.post(
        page.url,
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": page.url},
        timeout=10,
    )
    # The app's device page, rendered from the installed package's templates.
    assert signed_in.status_code == 200
    assert signed_in.url == project.url + "/o/device/"
    assert 'name="user_code"' in signed_in.text
    # The project's own API view still accepts the session (REST_FRAMEWORK kept SessionAuthentication).
    whoami = session.get(project.url + "/api/whoami/", timeout=10)
    assert whoami.json() == {"username": "alice"}
    # ...while the scope-guarded views want a token (the README's table of answers).
    notes = session.get(project.url + "/api/notes/", timeout=10)
    assert notes.status_code == 403
    assert "WWW-Authenticate" not in notes.headers


def test_login_page_fills_in_the_login_hint(project):
    # The authorization endpoint passes an OpenID Connect login_hint to LOGIN_URL.
    page = requests.get(project.url + "/accounts/login/?next=/o/device/&login_hint=alice", timeout=10)
    assert re.search(r'<input[^>]*name="username"[^>]*value="alice"', page.text)


def test_readme_client_gets_a_token_calls_the_api_and_introspects_it(project):
    script = snippets()["client.py"]
    assert README_SITE in script
    result = subprocess.run(  # noqa: S603 - the README's own commands, in a throwaway project
        [sys.executable, "-c", script.replace(README_SITE, project.url)],
        cwd=project.path,
        env={**os.environ, **project.credentials},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    notes, introspection = (ast.literal_eval(line) for line in result.stdout.splitlines())
    assert notes == {"client": "My app", "scopes": ["read"]}
    assert introspection["active"] is True
    assert introspection["scope"] == "read"
    assert introspection["client_id"] == project.credentials["CLIENT_ID"]


def test_api_without_a_token_answers_a_bearer_challenge(project):
    response = requests.get(project.url + "/api/notes/", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_metadata_is_mounted(project):
    metadata = requests.get(project.url + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == project.url
    assert metadata["token_endpoint"] == project.url + "/o/token/"


def test_the_openid_scopes_make_it_an_openid_provider(project):
    """The README's SCOPES offer openid: discovery answers, and the keys that
    sign ID tokens were made by migrate, with nothing else to do."""
    config = requests.get(project.url + "/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == project.url
    assert {"openid", "profile", "email"} <= set(config["scopes_supported"])
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    assert {key["alg"] for key in keys} == set(config["id_token_signing_alg_values_supported"])
    assert all("d" not in key for key in keys)


def test_installed_package_carries_its_templates_and_translations(project):
    result = project.run("python", "manage.py", "shell", "--verbosity", "0", "-c", PACKAGE_DATA)
    translated, scope, location = result.stdout.splitlines()
    po = polib.pofile(str(ROOT / "oauth_provider" / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    assert translated == po.find(MSGID).msgstr
    assert scope == po.find("Read your data").msgstr
    installed = Path(location).resolve()
    if os.environ.get("README_TEST_PYTHON"):
        assert ROOT not in installed.parents, f"{installed} is this checkout, not the installed package"
    else:
        assert installed.parent == ROOT / "oauth_provider"


def shell_commands(script: str) -> list[str]:
    """The commands of a README ``sh`` block: backslash continuations joined, comment lines dropped."""
    return [
        command
        for command in script.replace("\\\n", " ").splitlines()
        if command.strip() and not command.lstrip().startswith("#")
    ]


def test_readme_code_flow_gets_a_token_for_the_signed_in_user(project):
    """The README's code flow: createclient with a redirect URI, the PKCE pair
    and authorization URL its shell lines print, logging in and pressing
    Authorize, then its curl lines: the exchange and ProfileView."""
    found = snippets()
    flow = shell_commands(found["code flow"].replace(README_SITE, project.url))
    register = [command for command in flow if "createclient" in command]
    assert len(register) == 1
    client = json.loads(bash(project, register[0]).stdout)
    ((id_name, secret_name),) = exported_names(found["code flow"])
    env = {id_name: client["client_id"], secret_name: client["client_secret"]}
    rest = "\n".join(
        command for command in flow if command not in register and not command.startswith("export ")
    )
    url, verifier = project.run(
        "bash", "-euo", "pipefail", "-c", rest + '\necho "$VERIFIER"', **env
    ).stdout.split()

    browser = requests.Session()
    login = browser.get(project.url + "/accounts/login/", timeout=10)
    signing_in = {
        "username": "alice",
        "password": PASSWORD,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }
    browser.post(login.url, data=signing_in, timeout=10)
    consent = browser.get(url, timeout=10)
    assert consent.status_code == 200 and 'value="allow"' in consent.text, consent.text
    csrf = {"csrfmiddlewaretoken": browser.cookies["csrftoken"]}  # logging in rotated it
    decided = browser.post(url, data={"action": "allow", **csrf}, allow_redirects=False, timeout=10)
    assert decided.status_code == 302, decided.text
    code = parse_qs(urlsplit(decided.headers["Location"]).query)["code"][0]

    exchange, call = shell_commands(found["code exchange"].replace(README_SITE, project.url))
    answer = json.loads(
        project.run(
            "bash", "-c", exchange.replace("CODE_FROM_THE_ADDRESS_BAR", code), **env, VERIFIER=verifier
        ).stdout
    )
    assert answer["scope"] == "read" and answer["token_type"] == "Bearer"
    assert "opat_…" in call
    me = project.run("bash", "-c", call.replace("opat_…", answer["access_token"])).stdout
    assert json.loads(me) == {"username": "alice"}
