"""The demo provision page renders in headless Chromium (the README screenshot's path)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshot", REPO / "scripts" / "screenshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.chromium
def test_demo_provision_page_renders_in_chromium(workspace: Path, tmp_path: Path) -> None:
    script = _script()
    page = script.build_demo_site(tmp_path / "site")
    assert "Nimbus AI now trains its models" in page.read_text()
    png = tmp_path / "provision.png"
    script.screenshot(page, png, width=390, height=900)  # phone width
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (390, 900)
    assert len(data) > 20_000  # a rendered page, not a blank canvas
