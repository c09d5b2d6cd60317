"""Prefect results in the shared storage: ``<storage>/prefect``.

A local storage (the default: the workspace) keeps today's layout: Prefect's
``PREFECT_RESULTS_LOCAL_STORAGE_PATH`` is ``<storage>/prefect`` (``flows.cli`` sets it unless
the environment already does).

A remote storage (``s3://...``) is given to Prefect as a ``RemoteFileSystem`` block (Prefect's
own fsspec block: no extra package, nothing to set up by hand on the server) that clausewatch
saves on the Prefect API it talks to, named after the URL and endpoint
(``remote-file-system/clausewatch-results-<hash>``). The block holds the base path and the
endpoint, never the key or the secret: each process brings its own credentials (the
clausewatch storage settings, put into this process's fsspec configuration while the block is
in use, or the standard AWS credential chain). Within ``shared_results()`` the block is
Prefect's default result storage and its task-scheduling storage (where background tasks'
parameters wait for a task worker, possibly on another machine).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clausewatch.core.settings import Settings, get_settings, is_local_url
from clausewatch.storage.files import fsspec_options, join_url, protocol_of, public_fsspec_options

BLOCK_PREFIX = "clausewatch-results-"
BLOCK_TYPE = "remote-file-system"


def results_url(settings: Settings | None = None) -> str:
    return join_url((settings or get_settings()).storage, "prefect")


def local_results_path(settings: Settings | None = None) -> Path | None:
    """The local results folder, or None when the storage is remote."""
    url = results_url(settings)
    if not is_local_url(url):
        return None
    return Path(url.removeprefix("file://")).expanduser()


def block_name(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    url = results_url(settings)
    ident = json.dumps([url, public_fsspec_options(url, settings)], sort_keys=True)
    return BLOCK_PREFIX + hashlib.sha256(ident.encode()).hexdigest()[:12]


def save_results_block(settings: Settings | None = None) -> str:
    """Save (or update) the results block on the current Prefect API; return its slug."""
    from prefect.filesystems import RemoteFileSystem

    settings = settings or get_settings()
    url = results_url(settings)
    name = block_name(settings)
    block = RemoteFileSystem(basepath=url, settings=public_fsspec_options(url, settings))
    block.save(name, overwrite=True)
    return f"{BLOCK_TYPE}/{name}"


@contextmanager
def process_credentials(settings: Settings | None = None) -> Iterator[None]:
    """While inside, every fsspec file system of the storage's protocol opened in this process
    (Prefect's block included) gets the storage options (endpoint, key, secret, timeouts), and
    so do the processes started meanwhile (flow runs of a served deployment): fsspec reads
    ``FSSPEC_<PROTOCOL>`` from the environment when it is imported."""
    import fsspec.config

    settings = settings or get_settings()
    url = settings.storage
    options = fsspec_options(url, settings)
    protocol = protocol_of(url)
    if not options:
        yield
        return
    env_name = f"FSSPEC_{protocol.upper()}"
    previous: dict[str, Any] | None = fsspec.config.conf.get(protocol)
    previous_env = os.environ.get(env_name)
    fsspec.config.conf[protocol] = {**(previous or {}), **options}
    os.environ[env_name] = json.dumps(options)
    try:
        yield
    finally:
        if previous is None:
            fsspec.config.conf.pop(protocol, None)
        else:
            fsspec.config.conf[protocol] = previous
        if previous_env is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = previous_env


@contextmanager
def shared_results(settings: Settings | None = None) -> Iterator[str]:
    """Within: Prefect keeps results and background-task parameters at ``<storage>/prefect``.
    A remote storage needs the Prefect API (``PREFECT_API_URL`` or the temporary server)."""
    settings = settings or get_settings()
    local = local_results_path(settings)
    if local is not None:
        yield str(local)  # PREFECT_RESULTS_LOCAL_STORAGE_PATH (flows.cli)
        return
    from prefect.settings import (
        PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK,
        PREFECT_TASKS_SCHEDULING_DEFAULT_STORAGE_BLOCK,
        temporary_settings,
    )

    with process_credentials(settings):
        slug = save_results_block(settings)
        with temporary_settings(
            updates={
                PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: slug,
                PREFECT_TASKS_SCHEDULING_DEFAULT_STORAGE_BLOCK: slug,
            }
        ):
            yield slug
