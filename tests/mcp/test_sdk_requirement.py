"""The ``mcp`` SDK range in ``pyproject.toml`` admits only releases with the
API ``example_project/mcp_server.py``, the README's agent snippet and
``tests/mcp`` use (``MCPServer``, ``mcp.Client``, the ``httpx2`` transport),
all new in 2.0: ``pip install -e .[test]`` must never pick a 1.x release."""

from __future__ import annotations

from pathlib import Path

import tomllib
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_pyproject_requires_an_mcp_sdk_with_mcpserver():
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["test"]
    (mcp,) = [Requirement(line) for line in extras if Requirement(line).name == "mcp"]
    assert not mcp.specifier.contains("1.30.0")
    assert mcp.specifier.contains("2.0.0")
