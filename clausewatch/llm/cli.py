"""``clausewatch llm status`` and ``clausewatch llm prepare``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console(soft_wrap=True)

llm_app = typer.Typer(help="Language-model backends: status and preparation.", no_args_is_help=True)


def _bytes_progress(description: str, total: int):  # type: ignore[no-untyped-def]
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(description, total=total)
    return bar, lambda n: bar.advance(task, n)


def _status_data(backend: str | None, verify: bool) -> dict[str, Any]:
    from clausewatch.core.settings import get_settings
    from clausewatch.llm import model_files
    from clausewatch.llm.calls import usage_summary
    from clausewatch.llm.factory import resolve
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.base import utcnow

    settings = get_settings()
    choice = resolve(backend, settings)
    files = model_files.status(settings.models_dir)
    verified = files.verified
    if verify and files.exists:
        bar, advance = _bytes_progress("verifying sha256", files.size)
        with bar:
            verified = model_files.verify(files.path, advance)
    from clausewatch.llm.progress import measured_speed
    from clausewatch.llm.shared_server import state_summary

    with session_scope() as session:
        last_day = usage_summary(session, utcnow() - timedelta(days=1))
        total = usage_summary(session)
    return {
        "local_server": state_summary(model_files.MODEL_SHA256[:16]),
        "measured_tokens_per_s": measured_speed(choice.backend),
        "backend": choice.backend,
        "reason": choice.reason,
        "model": choice.model,
        "base_url": choice.base_url,
        "openai_api_key_set": settings.openai_api_key is not None,
        "local_model": {
            "path": str(files.path),
            "present": files.exists,
            "size": files.size,
            "expected_size": model_files.MODEL_SIZE,
            "sha256": model_files.MODEL_SHA256,
            "verified": verified,
            "parts_installed": files.parts_installed,
            "parts_expected": model_files.PART_COUNT,
            "missing_parts": files.missing_parts,
        },
        "usage_24h": last_day,
        "usage_total": total,
    }


def status(
    backend: Annotated[
        str | None, typer.Option(help="Backend to describe (default: settings).")
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Re-hash the local model file now (takes seconds).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Which backend and model would be used, the local model file, and LLM usage."""
    data = _status_data(backend, verify)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    local = data["local_model"]
    console.print(f"backend   [bold]{data['backend']}[/] ({data['reason']})")
    console.print(f"model     {data['model']}")
    if data["base_url"]:
        console.print(f"base URL  {data['base_url']}")
    console.print(f"API key   {'set' if data['openai_api_key_set'] else 'not set'}")
    if local["present"]:
        state = "verified" if local["verified"] else "NOT verified (run `clausewatch llm prepare`)"
        console.print(f"local model file  {local['path']} ({local['size']:,} bytes, {state})")
    else:
        console.print(f"local model file  not assembled yet ({local['path']})")
    parts = f"{local['parts_installed']}/{local['parts_expected']}"
    if local["missing_parts"]:
        parts += " (missing: " + ", ".join(local["missing_parts"]) + ")"
    console.print(f"model parts       {parts} installed")
    server = data["local_server"]
    if server:
        console.print(
            f"local server      running at {server['url']} (pid {server['pid']}, "
            f"{server['threads']} threads: {server['threads_reason']}; "
            f"{server['queue']} request(s) queued or running; "
            f"stops after {server['idle_s']:.0f} s idle)"
        )
    else:
        console.print("local server      not running (started on first need)")
    if data["measured_tokens_per_s"]:
        console.print(f"last speed        {data['measured_tokens_per_s']:.1f} tokens/s generation")
    for label, usage in (("last 24 h", data["usage_24h"]), ("all time", data["usage_total"])):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(usage["by_outcome"].items())) or "none"
        console.print(
            f"usage {label:<9}  {usage['calls']} calls, {usage['tokens_in']:,} tokens in, "
            f"{usage['tokens_out']:,} out, {usage['cache_hits']} cache hits ({outcomes}), "
            f"${usage['cost_usd']:.4f} at list prices"
            + (f" (no price for {', '.join(usage['unpriced'])})" if usage["unpriced"] else "")
        )


def prepare(
    backend: Annotated[
        str | None, typer.Option(help="Backend to prepare (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timings as JSON.")] = False,
) -> None:
    """Assemble and verify the local model, start its server, time a tiny structured question,
    and say whether that speed can finish a draft within the per-draft budget."""
    import time

    from clausewatch.core.settings import get_settings
    from clausewatch.llm import model_files
    from clausewatch.llm.factory import get_llm
    from clausewatch.llm.local import LocalLLM
    from clausewatch.llm.probe import run_probe
    from clausewatch.llm.speed_check import typical_draft, verdict

    settings = get_settings()
    settings.ensure_home()
    llm = get_llm(backend)
    timings: dict[str, Any] = {}
    try:
        if isinstance(llm, LocalLLM):
            files = model_files.status(settings.models_dir)
            started = time.perf_counter()
            if not files.verified:
                bar, advance = _bytes_progress(
                    "verifying model" if files.exists else "assembling model",
                    model_files.MODEL_SIZE,
                )
                with bar:
                    model_files.ensure_model_file(settings.models_dir, advance)
            timings["model_file_s"] = round(time.perf_counter() - started, 2)
            timings["model_file"] = str(model_files.model_path(settings.models_dir))
            with console.status("starting the local model server (or finding the running one)"):
                info = llm.start()
            timings["server_start_s"] = round(info.state.load_s, 2)
            timings["server_started_here"] = info.started_here
            timings["server_address"] = info.address
            timings["server_pid"] = info.state.pid
            timings["threads"] = info.threads
            timings["threads_reason"] = info.state.threads_reason
        with console.status(f"asking {llm.backend} a tiny structured question"):
            timings.update(run_probe(llm))
    finally:
        llm.close()
    check = verdict(
        size=typical_draft(),
        prompt_tok_s=timings.get("prompt_tok_s"),
        generation_tok_s=timings.get("generation_tok_s"),
        budget_s=settings.llm_draft_budget_s,
        backend=llm.backend,
        threads=timings.get("threads"),
        threads_reason=timings.get("threads_reason", ""),
    )
    timings["verdict"] = "ok" if check.ok else "too slow"
    timings["draft_estimate_s"] = round(check.estimate_s, 1) if check.estimate_s else None
    timings["draft_budget_s"] = check.budget_s
    timings["advice"] = check.lines
    if as_json:
        typer.echo(json.dumps(timings, indent=2))
    else:
        for key, value in timings.items():
            if key != "advice":
                console.print(f"{key:<18} {value}", markup=False)
        for line in check.lines:
            console.print(line, markup=False, style=None if check.ok else "bold")
    if not timings.get("valid"):
        raise typer.Exit(1)


def stop(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Stop the shared local model server now (it starts again on the next need)."""
    from clausewatch.llm import model_files
    from clausewatch.llm.shared_server import stop_server

    pid = stop_server(model_files.MODEL_SHA256[:16])
    if as_json:
        typer.echo(json.dumps({"stopped_pid": pid}))
    elif pid is None:
        console.print("no local model server was running")
    else:
        console.print(f"stopped the local model server (pid {pid})")


def register(app: typer.Typer) -> None:
    llm_app.command("status")(status)
    llm_app.command("prepare")(prepare)
    llm_app.command("stop")(stop)
    app.add_typer(llm_app, name="llm")
