"""Render the demo provision page and screenshot it with headless Chromium.

    python scripts/screenshot.py docs/provision-page.png [--width 1000] [--height 2400]

Builds the fictional demo (:func:`tests.publication_demo.seed_demo`) in a throw-away workspace,
publishes it, and runs ``chromium --headless --screenshot`` on the provision page. Needs a
Chromium binary (``CLAUSEWATCH_CHROMIUM``, ``CHROMIUM`` or ``/usr/bin/chromium``;
Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.publication_demo: the fictional demo's rows

from clausewatch.core.errors import ConfigError  # noqa: E402


def find_chromium() -> str:
    for candidate in (
        os.environ.get("CLAUSEWATCH_CHROMIUM"),
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        "chromium",
    ):
        if candidate and (found := shutil.which(candidate)):
            return found
    raise ConfigError("no Chromium found: set CLAUSEWATCH_CHROMIUM or `apt-get install chromium`")


def build_demo_site(out_dir: Path) -> Path:
    """Publish the demo into ``out_dir``; return the provision page's path."""
    from clausewatch.core.settings import reset_settings
    from clausewatch.publication.site import build_site
    from clausewatch.storage.db import forget_engines, session_scope
    from tests.publication_demo import seed_demo

    with tempfile.TemporaryDirectory(prefix="clausewatch-demo-") as home:
        previous = {k: os.environ.get(k) for k in ("CLAUSEWATCH_HOME", "CLAUSEWATCH_DATABASE_URL")}
        os.environ["CLAUSEWATCH_HOME"] = home
        os.environ.pop("CLAUSEWATCH_DATABASE_URL", None)
        reset_settings()
        forget_engines()
        try:
            with session_scope() as session:
                seed_demo(session)
            with session_scope() as session:
                build_site(session, out_dir)
        finally:
            forget_engines()
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            reset_settings()
    pages = [p for p in out_dir.glob("platforms/nimbus-ai/*/*.html") if p.name != "index.html"]
    if len(pages) != 1:
        raise RuntimeError(f"expected one demo provision page, found {pages}")
    return pages[0]


def screenshot(page: Path, png: Path, width: int, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clausewatch-chromium-") as profile:
        subprocess.run(
            [
                find_chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png.resolve()}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    if not png.exists() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {png}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clausewatch-site-") as site:
        page = build_demo_site(Path(site) / "site")
        screenshot(page, args.png, args.width, args.height)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
