"""``clausewatch deploy``: a thin helper over ``prefect deploy`` and the repository's prefect.yaml.

It shows what it will do (the deployments, their schedules and limits, the repository and
branch the workers will clone, the exact command), creates the process work pool the file
names when it is missing, then runs ``prefect --no-prompt deploy`` with the file's folder as
working directory. Everything else is Prefect's own.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from clausewatch.core.errors import ConfigError

console = Console(stderr=True, soft_wrap=True)  # lines whole: logs and tests read them

PREFECT_FILE = "prefect.yaml"


@dataclass(frozen=True)
class Planned:
    """One deployment of the file, as `clausewatch deploy` shows it."""

    name: str  # <flow name>/<deployment name>
    entrypoint: str
    schedules: list[str]
    concurrency_limit: int | None
    tags: list[str]
    pool: str


def find_prefect_file(explicit: Path | None = None) -> Path:
    """``explicit``, else ./prefect.yaml, else the prefect.yaml of the checkout clausewatch
    runs from (an editable install)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"no such file: {explicit}")
        return explicit.resolve()
    for candidate in (Path.cwd() / PREFECT_FILE, _checkout() / PREFECT_FILE):
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigError(
        "no prefect.yaml here or in the clausewatch checkout: run this in a clone of the "
        "clausewatch repository, or pass --prefect-file"
    )


def _checkout() -> Path:
    import clausewatch

    return Path(clausewatch.__file__).resolve().parent.parent


def flow_name(entrypoint: str) -> str:
    """The Prefect flow name behind an entrypoint (imports the flow)."""
    from prefect.flows import load_flow_from_entrypoint

    return str(load_flow_from_entrypoint(entrypoint).name)


def plan(path: Path, pool: str | None = None) -> list[Planned]:
    """The deployments ``path`` declares (``pool`` overrides their work pool)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    planned = []
    for spec in data.get("deployments") or []:
        schedules = [
            " ".join(
                f"{kind} {spec_value!r}"
                for kind, spec_value in schedule.items()
                if kind in ("cron", "interval", "rrule", "timezone")
            )
            for schedule in spec.get("schedules") or []
        ]
        limit = spec.get("concurrency_limit")
        if isinstance(limit, dict):
            limit = limit.get("limit")
        work_pool: dict[str, Any] = spec.get("work_pool") or {}
        planned.append(
            Planned(
                name=f"{flow_name(spec['entrypoint'])}/{spec['name']}",
                entrypoint=spec["entrypoint"],
                schedules=schedules,
                concurrency_limit=limit,
                tags=list(spec.get("tags") or []),
                pool=pool or str(work_pool.get("name") or ""),
            )
        )
    if not planned:
        raise ConfigError(f"{path} declares no deployments")
    return planned


def git_source(folder: Path) -> tuple[str, str]:
    """The repository URL and branch the workers will clone (what prefect.yaml's build steps
    read: the ``origin`` remote and the current branch)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ConfigError(
                f"`git {' '.join(args)}` failed in {folder}: {done.stderr.strip()}. Workers "
                "clone the code from git: deploy from a checkout on a branch whose `origin` "
                "remote they can reach (git remote add origin URL)"
            )
        return done.stdout.strip()

    return git("remote", "get-url", "origin"), git("symbolic-ref", "--short", "HEAD")


def prefect_command(path: Path, names: list[str], pool: str | None) -> list[str]:
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy"]
    command += ["--prefect-file", str(path)]
    if names:
        for name in names:
            command += ["--name", name]
    else:
        command.append("--all")
    if pool:
        command += ["--pool", pool]
    return command


def ensure_process_pool(name: str) -> bool:
    """Create the process work pool ``name`` when it is missing; True when created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True


def _show(path: Path, planned: list[Planned], source: tuple[str, str], api: str) -> None:
    console.print(f"Prefect server: {api}")
    console.print(f"deployments of {path}:")
    for p in planned:
        limit = f"at most {p.concurrency_limit} at a time" if p.concurrency_limit else "no limit"
        when = "; ".join(p.schedules) or "no schedule"
        console.print(
            f"  {p.name}: {p.entrypoint}, {when}, {limit}, pool {p.pool!r}, "
            f"tags {', '.join(p.tags) or '-'}",
            highlight=False,
            markup=False,
        )
    console.print(f"workers will clone {source[0]} (branch {source[1]}) before each run")


def deploy(
    names: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="Only this deployment (e.g. monitor/daily); repeat for more. Default: all.",
        ),
    ] = None,
    prefect_file: Annotated[
        Path | None,
        typer.Option(help="Default: ./prefect.yaml, else the clausewatch checkout's."),
    ] = None,
    pool: Annotated[
        str | None, typer.Option(help="Work pool for every deployment (default: the file's).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be done and stop.")
    ] = False,
) -> None:
    """Register the deployments of prefect.yaml on the Prefect server (PREFECT_API_URL):
    monitoring, publication and the digest, with their schedules, limits and tags."""
    from clausewatch.flows.prefect_server import configured_api_url

    path = find_prefect_file(prefect_file)
    api = configured_api_url()
    if not api:
        raise ConfigError(
            "deployments live on a Prefect server: start one (`prefect server start`) and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    planned = plan(path, pool)
    if names:
        planned = [  # prefect deploy's --name: a deployment's name or flow/name, or a pattern
            p
            for p in planned
            if any(fnmatch(p.name, n) or fnmatch(p.name.split("/")[1], n) for n in names)
        ]
        if not planned:
            raise ConfigError(f"no deployment named {', '.join(names)} in {path}")
    source = git_source(path.parent)
    _show(path, planned, source, api)
    # prefect deploy matches "flow/name" against file-path entrypoints only: the names alone
    # (unique in the file) select our module-path deployments
    command = prefect_command(path, [p.name.split("/")[1] for p in planned] if names else [], pool)
    shown = " ".join(["prefect", *command[3:]])
    console.print(f"run (in {path.parent}): {shown}", highlight=False, markup=False)
    if dry_run:
        return
    for name in sorted({p.pool for p in planned if p.pool}):
        if ensure_process_pool(name):
            console.print(f"created the process work pool {name!r}")
    done = subprocess.run(command, cwd=path.parent, check=False)
    if done.returncode != 0:
        raise typer.Exit(done.returncode)
    console.print(
        "Next, on each machine that runs flows (same environment as this one): "
        f"prefect worker start --pool {planned[0].pool}"
    )
