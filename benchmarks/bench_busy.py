"""The README's main job on a busy machine (issue 13), with the real bundled model.

Each scenario runs ``clausewatch run`` on the shipped sample in a fresh workspace (and a
fresh per-user runtime folder, so no model server carries over between scenarios):

  a. quiet: nothing else started by the benchmark;
  b. busy: two CPU-bound loops run for the whole run;
  c. second process: a ``clausewatch analyze`` of another sample clause starts when half the
     drafts are done (or, if drafting has not reached half, after --half-s seconds).

Reported per scenario: wall time, drafts produced (and left pending by the drafting budget),
generation tokens/s (from the LLM call log), peak RSS of everything the scenario started
(the run, the second process, any model server they started), the number of model copies
loaded (processes that map the GGUF file, most at once and in total), and when the first
progress line reached the (non-terminal) log.

The model file is assembled once into --model-cache and hard-linked into each workspace, so
the figures leave out the one-time assembly. The machine's load average at the start is
printed with the results: a shared machine is never quite quiet.

    .venv/bin/python benchmarks/bench_busy.py                       # a, b and c, all drafts
    .venv/bin/python benchmarks/bench_busy.py --scenarios a --max-drafts 1   # a short check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BUSY_LOOP = "while True:\n    pass\n"
SECOND_CLAUSE_PAGE = REPO / "clausewatch" / "sample" / "live" / "helix-labs" / "terms.html"


@dataclass
class Result:
    scenario: str
    wall_s: float = 0.0
    exit_code: int | None = None
    status: str | None = None
    changes: int = 0
    drafts: int = 0
    flagged: int = 0
    deferred: int = 0
    deferred_reason: str | None = None
    failures: list[str] = field(default_factory=list)
    tokens_out: int = 0
    generation_s: float = 0.0
    tokens_per_s: float | None = None
    peak_rss_mb: float = 0.0
    model_copies_at_once: int = 0
    model_copies_total: int = 0
    first_progress_line_s: float | None = None
    progress_lines: int = 0
    second_process: dict[str, Any] | None = None
    load_at_start: tuple[float, float, float] = (0.0, 0.0, 0.0)


def prepare_model(cache: Path) -> Path:
    from clausewatch.llm import model_files

    started = time.monotonic()
    path = model_files.ensure_model_file(cache)
    print(f"model file ready in {time.monotonic() - started:.0f} s: {path}", flush=True)
    return cache


def link_model(cache: Path, models_dir: Path) -> None:
    from clausewatch.llm import model_files

    models_dir.mkdir(parents=True, exist_ok=True)
    source = model_files.model_path(cache)
    target = model_files.model_path(models_dir)
    os.link(source, target)
    marker = source.with_name(source.name + ".verified")
    shutil.copy2(marker, target.with_name(marker.name))


class Sampler(threading.Thread):
    """Every second: RSS of the processes this scenario started (found by a marker in their
    environment, so detached model servers count too) and which of them map the model."""

    def __init__(self, marker: str, model_name: str) -> None:
        super().__init__(daemon=True)
        self.marker = marker.encode()
        self.model_name = model_name
        self.stop = threading.Event()
        self.peak_rss = 0
        self.copies_at_once = 0
        self.copies: set[int] = set()
        self.pids: set[int] = set()

    def ours(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as fh:
                    if self.marker in fh.read():
                        found.append(int(entry.name))
            except OSError:
                continue
        return found

    def sample(self) -> None:
        import psutil

        rss = 0
        mapping = 0
        for pid in self.ours():
            try:
                rss += psutil.Process(pid).memory_info().rss
                with open(f"/proc/{pid}/maps") as fh:
                    if self.model_name in fh.read():
                        mapping += 1
                        self.copies.add(pid)
            except (OSError, psutil.Error):
                continue
            self.pids.add(pid)
        self.peak_rss = max(self.peak_rss, rss)
        self.copies_at_once = max(self.copies_at_once, mapping)

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(1.0)


class LineReader(threading.Thread):
    """Reads the run's stderr (progress lines) as they come, with their arrival time."""

    def __init__(self, stream: Any, started: float, log: Path) -> None:
        super().__init__(daemon=True)
        self.stream, self.started, self.log = stream, started, log
        self.lines: list[tuple[float, str]] = []

    def run(self) -> None:
        with self.log.open("w") as out:
            for raw in self.stream:
                line = raw.rstrip("\n")
                at = time.monotonic() - self.started
                self.lines.append((at, line))
                out.write(f"[{at:7.1f}s] {line}\n")
                out.flush()


def env_for(home: Path, runtime: Path, marker: str, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CLAUSEWATCH_HOME": str(home),
            "CLAUSEWATCH_LLM_BACKEND": "local",
            "CLAUSEWATCH_LLM_RUNTIME_DIR": str(runtime),
            "CLAUSEWATCH_BENCH_MARKER": marker,
            "PYTHONPATH": str(REPO),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "PREFECT_HOME": str(home / "prefect-home"),
        }
    )
    for key in ("CLAUSEWATCH_DATABASE_URL", "CLAUSEWATCH_LLM_BASE_URL", "OPENAI_API_KEY"):
        env.pop(key, None)
    if args.max_drafts:
        env["CLAUSEWATCH_MAX_DRAFTS_PER_RUN"] = str(args.max_drafts)
    if args.budget_min is not None:
        env["CLAUSEWATCH_RUN_DRAFT_BUDGET_MIN"] = str(args.budget_min)
    return env


def second_clause() -> str:
    """A clause of a sample page that no change of the sample touches."""
    from clausewatch.archive.loader import load_markdown
    from clausewatch.clauses.segment import segment

    clauses = segment(load_markdown(str(SECOND_CLAUSE_PAGE)), with_tokens=False)
    longest = max(clauses, key=lambda c: len(c.text))
    return str(longest.id)


def drafts_done(home: Path) -> tuple[int, int]:
    """(drafts finished, drafts planned) of the run in progress, from its run row."""
    import sqlite3

    db = home / "clausewatch.db"
    if not db.exists():
        return 0, 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute(
                "SELECT summary FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return 0, 0
    if not row or not row[0]:
        return 0, 0
    progress = json.loads(row[0]).get("progress") or {}
    return int(progress.get("done", 0)), int(progress.get("total", 0))


def llm_usage(home: Path) -> tuple[int, float]:
    import sqlite3

    with sqlite3.connect(home / "clausewatch.db") as conn:
        tokens, ms = conn.execute(
            "SELECT COALESCE(SUM(tokens_out), 0), COALESCE(SUM(latency_ms), 0) FROM llm_calls "
            "WHERE outcome IN ('ok', 'invalid')"
        ).fetchone()
    return int(tokens), float(ms) / 1000


def stop_ours(sampler: Sampler) -> None:
    """End what this scenario started and left running (a detached model server), by pid."""
    for pid in sampler.ours():
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    time.sleep(3)
    for pid in sampler.ours():
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


def scenario(name: str, cache: Path, args: argparse.Namespace) -> Result:
    from clausewatch.llm import model_files

    result = Result(scenario=name, load_at_start=os.getloadavg())
    home = Path(tempfile.mkdtemp(prefix=f"cw-busy-{name}-"))
    runtime = home / "llm-runtime"
    runtime.mkdir()
    link_model(cache, home / "models")
    marker = f"cw-busy-{name}-{os.getpid()}-{time.time_ns()}"
    env = env_for(home, runtime, marker, args)
    sampler = Sampler(marker, model_files.model_path(cache).name)
    loops: list[subprocess.Popen[bytes]] = []
    if name == "b":
        loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(2)]
    clause = second_clause() if name == "c" else ""
    print(f"\n== scenario {name}: workspace {home}", flush=True)
    started = time.monotonic()
    run = subprocess.Popen(
        [sys.executable, "-m", "clausewatch", "run", "--json"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = LineReader(run.stderr, started, home / "progress.log")
    reader.start()
    sampler.start()
    second: dict[str, Any] | None = None
    second_proc: subprocess.Popen[str] | None = None
    while run.poll() is None:
        time.sleep(2)
        if name == "c" and second_proc is None:
            done, total = drafts_done(home)
            elapsed = time.monotonic() - started
            if (total and done * 2 >= total) or elapsed >= args.half_s:
                second = {"started_at_s": round(elapsed), "drafts_done_then": done}
                second_proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "clausewatch",
                        "analyze",
                        str(SECOND_CLAUSE_PAGE),
                        "--platform",
                        "helix-labs",
                        "--doc-type",
                        "terms_of_service",
                        "--clause",
                        clause,
                        "--json",
                    ],
                    cwd=home,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                second["t0"] = time.monotonic()
    stdout = run.stdout.read() if run.stdout else ""
    result.wall_s = round(time.monotonic() - started, 1)
    result.exit_code = run.returncode
    reader.join(timeout=5)
    if second_proc is not None and second is not None:
        _out, err = second_proc.communicate()
        second["wall_s"] = round(time.monotonic() - second.pop("t0"), 1)
        second["exit_code"] = second_proc.returncode
        second["error"] = err.strip().splitlines()[-1] if second_proc.returncode and err else None
        result.second_process = second
    sampler.stop.set()
    sampler.join(timeout=5)
    sampler.sample()
    for loop in loops:
        loop.kill()
        loop.wait()
    stop_ours(sampler)
    try:
        summary = json.loads(stdout[stdout.index("{") :])
    except ValueError:
        summary = {}
        print(stdout[-2000:], flush=True)
    result.status = summary.get("status")
    result.changes = int(summary.get("changes_pending", 0))
    result.drafts = int(summary.get("drafts_created", 0)) + int(summary.get("drafts_flagged", 0))
    result.flagged = int(summary.get("drafts_flagged", 0))
    result.deferred = int(summary.get("drafts_deferred", 0))
    result.deferred_reason = summary.get("deferred_reason")
    result.failures = [
        f"{f['stage']} {f['item']}: {f['reason']}" for f in summary.get("failures", [])
    ]
    result.tokens_out, result.generation_s = llm_usage(home)
    if result.generation_s:
        result.tokens_per_s = round(result.tokens_out / result.generation_s, 2)
    result.peak_rss_mb = round(sampler.peak_rss / 2**20)
    result.model_copies_at_once = sampler.copies_at_once
    result.model_copies_total = len(sampler.copies)
    result.progress_lines = len(reader.lines)
    drafting = [at for at, line in reader.lines if line.startswith("draft ")]
    result.first_progress_line_s = round(drafting[0], 1) if drafting else None
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(asdict(result), indent=2), flush=True)
    return result


def table(results: list[Result]) -> str:
    rows = [
        "| scenario | wall | drafts (flagged) / changes | left pending | gen. tok/s | peak RSS | "
        "model copies (at once / total) | first draft line | load at start |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"a": "a. quiet", "b": "b. two busy loops", "c": "c. second analyze half way"}
    for r in results:
        second = ""
        if r.second_process:
            s = r.second_process
            second = f"; analyze: {s.get('wall_s')} s, exit {s.get('exit_code')}"
        rows.append(
            f"| {names[r.scenario]} | {r.wall_s / 60:.1f} min | {r.drafts} ({r.flagged}) / "
            f"{r.changes} | {r.deferred} | {r.tokens_per_s} | {r.peak_rss_mb} MB | "
            f"{r.model_copies_at_once} / {r.model_copies_total} | "
            f"{r.first_progress_line_s} s | {r.load_at_start[0]:.1f}{second} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="a,b,c")
    parser.add_argument("--max-drafts", type=int, default=None, help="a reduced case")
    parser.add_argument("--budget-min", type=float, default=None, help="drafting budget")
    parser.add_argument("--half-s", type=float, default=600, help="(c) start at the latest")
    parser.add_argument(
        "--model-cache", type=Path, default=Path(tempfile.gettempdir()) / "cw-bench-model"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces")
    args = parser.parse_args()
    cache = prepare_model(args.model_cache)
    results = [scenario(name.strip(), cache, args) for name in args.scenarios.split(",")]
    print("\n" + table(results))
    if args.out:
        args.out.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
