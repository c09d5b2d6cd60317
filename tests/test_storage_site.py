"""The published site in the shared storage: `clausewatch publish` writes it to
<storage>/site on a real S3 API server (moto's), with content types; the same files as a local
build; a rebuild from another machine rewrites nothing; a foreign prefix is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from publication_support import seed
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import InputError
from clausewatch.core.settings import reset_settings
from clausewatch.publication.site import build_site
from clausewatch.publication.writer import MANIFEST
from clausewatch.storage.db import forget_engines, session_scope
from tests.s3_support import KEY, SECRET, s3_objects, s3_server, s3_storage  # noqa: F401


def _local_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_publish_writes_the_site_to_s3(
    db_workspace: Path,
    s3_server: str,  # noqa: F811
    s3_storage: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import s3fs

    with session_scope() as session:
        seed(session)
    first = CliRunner().invoke(app, ["publish", "--no-alerts"])
    assert first.exit_code == 0, first.output
    assert f"site {s3_storage}/site: 3 analyses" in first.output

    with session_scope() as session:
        build_site(session, tmp_path / "local-site")
    local = _local_files(tmp_path / "local-site")
    remote = {
        k.removeprefix("site/"): v
        for k, v in s3_objects(s3_server, s3_storage).items()
        if k.startswith("site/")
    }
    assert remote == local and MANIFEST in remote and len(remote) > 10
    fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=s3_server, skip_instance_cache=True)
    root = s3_storage.removeprefix("s3://")
    assert fs.info(f"{root}/site/index.html")["ContentType"] == "text/html"
    assert fs.info(f"{root}/site/assets/style.css")["ContentType"] == "text/css"

    # another machine (own workspace, same database and storage): nothing to rewrite
    database_url = os.environ.get("CLAUSEWATCH_DATABASE_URL") or (
        f"sqlite:///{db_workspace / 'clausewatch.db'}"
    )
    monkeypatch.setenv("CLAUSEWATCH_HOME", str(tmp_path / "machine-b"))
    monkeypatch.setenv("CLAUSEWATCH_DATABASE_URL", database_url)
    forget_engines()
    reset_settings()
    again = CliRunner().invoke(app, ["publish", "--no-alerts"])
    assert again.exit_code == 0, again.output
    assert "0 files written" in again.output and "0 removed" in again.output

    # a prefix holding something else is refused, as a non-empty folder is
    fs.pipe_file(f"{root}/other/readme.txt", b"not a site")
    with session_scope() as session, pytest.raises(InputError, match="not empty"):
        build_site(session, f"{s3_storage}/other")
