"""``python example_project/mcp_server.py``, as the README runs it: the
environment configures it, and it serves its RFC 9728 metadata at the
path-suffixed well-known URL (§3.1) naming the issuer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "example_project" / "mcp_server.py"


def test_script_serves_its_protected_resource_metadata():
    port = free_port()
    env = {
        **os.environ,
        "OAUTH_PROVIDER_ISSUER": "https://auth.example.com",
        "MCP_SERVER_URL": f"http://127.0.0.1:{port}/mcp",
        "MCP_INTROSPECTION_CLIENT_ID": "mcp-server",
        "MCP_INTROSPECTION_CLIENT_SECRET": "not-used-here",
    }
    metadata_url = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(SCRIPT)], env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(metadata_url, timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the MCP server did not start"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(10)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == env["MCP_SERVER_URL"]
    assert metadata["authorization_servers"] == ["https://auth.example.com"]


def test_script_without_introspection_credentials_says_what_to_set():
    env = {key: value for key, value in os.environ.items() if not key.startswith("MCP_INTROSPECTION_")}
    finished = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, timeout=30, text=True
    )
    assert finished.returncode == 1
    assert "MCP_INTROSPECTION_CLIENT_ID" in finished.stderr
