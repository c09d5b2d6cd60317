"""Clause-level diff speed and memory against ``git diff --no-index --word-diff`` and difflib.

Two workloads, measured in one run:

1. every consecutive pair of versions in the shared policies corpus (real edits);
2. a synthetic policy of 100,000 words built from real clauses of that corpus, against a copy
   with known edits applied (modify, one-word change, add, remove, move).

For each tool the time is the best of ``--repeat`` runs. clausewatch is timed end to end
(segmentation of both texts + alignment + word diffs, what ``clausewatch diff`` does after
loading) and for the alignment alone (what the archive does, having stored the previous
version's clauses). git runs as a subprocess (its time includes starting the process). The
difflib baseline works like git's word diff: lines first, then words inside changed lines.
Peak memory: tracemalloc peak of the Python work, and the peak RSS of git.

Usage: ``python benchmarks/bench_diff.py [--repeat N] [--words N] [--policies DIR]``
"""

from __future__ import annotations

import argparse
import difflib
import functools
import gc
import itertools
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clausewatch.clauses.align import align, clear_caches  # noqa: E402
from clausewatch.clauses.canonical import canonical, is_date_line  # noqa: E402
from clausewatch.clauses.segment import segment  # noqa: E402
from clausewatch.core.tokens import get_encoding  # noqa: E402
from clausewatch.evals import edits  # noqa: E402

DEFAULT_POLICIES = REPO.parent / "shared" / "data" / "policies"


@dataclass
class Timing:
    wall: float  # seconds, best of the runs
    cpu: float  # seconds of CPU (this process's, or git's as a child process), best of the runs


def _cpu_now() -> float:
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


def best_time(fn: Callable[[], Any], repeat: int) -> Timing:
    """Best wall and CPU time of ``repeat`` runs, each starting with cold caches. CPU time is
    reported because the machine may be shared: it does not count time spent waiting."""
    walls, cpus = [], []
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        cpu, start = _cpu_now(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_now() - cpu)
    return Timing(min(walls), min(cpus))


def best_time_warm(fn: Callable[[], Any], repeat: int) -> Timing:
    """Like :func:`best_time` but keeping caches from a first, untimed run."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        cpu, start = _cpu_now(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_now() - cpu)
    return Timing(min(walls), min(cpus))


def peak_python_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def git_word_diff(old: Path, new: Path) -> str:
    result = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--word-diff", str(old), str(new)],
        capture_output=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stderr.decode(errors="replace"))
    return result.stdout.decode(errors="replace")


def git_peak_rss_kb(old: Path, new: Path) -> int:
    """Peak RSS of one git run, via /usr/bin/time when present, else the children's maximum."""
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        result = subprocess.run(
            [
                str(gnu_time),
                "-f",
                "%M",
                "git",
                "diff",
                "--no-index",
                "--word-diff",
                str(old),
                str(new),
            ],
            capture_output=True,
            check=False,
        )
        return int(result.stderr.decode().strip().splitlines()[-1])
    git_word_diff(old, new)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def difflib_word_diff(old: str, new: str) -> int:
    """Line diff, then a word diff inside each changed block (git's approach); returns the
    number of changed word runs."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    runs = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_words = " ".join(old_lines[i1:i2]).split()
        new_words = " ".join(new_lines[j1:j2]).split()
        words = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
        runs += sum(1 for op in words.get_opcodes() if op[0] != "equal")
    return runs


def clausewatch_diff(old: str, new: str) -> int:
    return len(align(segment(old, with_tokens=False), segment(new, with_tokens=False)).changes)


def corpus_pairs(policies: Path) -> list[tuple[Path, Path]]:
    docs: dict[Path, list[Path]] = defaultdict(list)
    for path in sorted(policies.glob("*/*/*.md")):
        docs[path.parent].append(path)
    return [pair for versions in docs.values() for pair in itertools.pairwise(versions)]


def synthetic_policy(policies: Path, words: int) -> str:
    """A policy of about ``words`` words made of distinct real clauses under numbered sections."""
    seen: set[str] = set()
    blocks: list[str] = []
    count = 0
    section = 0
    in_section = 0
    for path in sorted(policies.glob("*/*/*.md")):
        for clause in segment(path.read_text(encoding="utf-8"), with_tokens=False):
            key = canonical(clause.text)
            if key in seen or clause.kind == "table_row" or "\n" in clause.text:
                continue
            if is_date_line(clause.text) or len(key.split()) < 6:
                continue
            seen.add(key)
            if in_section == 0:
                section += 1
                title = " ".join(key.split()[:5])
                blocks.append(f"## {section}. {title}")
            prefix = "* " if clause.kind == "list_item" else ""
            blocks.append(prefix + clause.text)
            in_section = (in_section + 1) % 12
            count += len(clause.text.split())
            if count >= words:
                return "\n\n".join(blocks) + "\n"
    raise SystemExit(f"the corpus has fewer than {words} words of distinct clauses")


def row(name: str, timing: Timing, reference: Timing) -> str:
    return (
        f"  {name:<42} wall {timing.wall * 1000:9.1f} ms ({timing.wall / reference.wall:5.2f}x git)"
        f"   cpu {timing.cpu * 1000:9.1f} ms ({timing.cpu / reference.cpu:5.2f}x git)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--policies", type=Path, default=DEFAULT_POLICIES)
    args = parser.parse_args()

    pairs = corpus_pairs(args.policies)
    texts = {p: p.read_text(encoding="utf-8") for pair in pairs for p in pair}
    words = sum(len(texts[new].split()) for _, new in pairs)
    print(f"1. corpus: {len(pairs)} consecutive pairs, {words:,} words in the newer versions")
    git_total = best_time(lambda: [git_word_diff(a, b) for a, b in pairs], max(1, args.repeat // 2))
    difflib_total = best_time(
        lambda: [difflib_word_diff(texts[a], texts[b]) for a, b in pairs], max(1, args.repeat // 2)
    )
    cw_total = best_time(
        lambda: [clausewatch_diff(texts[a], texts[b]) for a, b in pairs], max(1, args.repeat // 2)
    )
    segs = {p: segment(t, with_tokens=False) for p, t in texts.items()}
    align_total = best_time(lambda: [align(segs[a], segs[b]) for a, b in pairs], args.repeat)
    per_pair = sorted(
        best_time(functools.partial(clausewatch_diff, texts[a], texts[b]), 1).cpu for a, b in pairs
    )
    print(row("git diff --no-index --word-diff", git_total, git_total))
    print(row("difflib (lines, then words)", difflib_total, git_total))
    print(row("clausewatch segment + align", cw_total, git_total))
    print(row("clausewatch align only (stored clauses)", align_total, git_total))
    print(
        f"  clausewatch per pair (cpu): median {statistics.median(per_pair) * 1000:.1f} ms, "
        f"max {per_pair[-1] * 1000:.1f} ms"
    )

    print(f"\n2. synthetic policy of {args.words:,} words (real clauses), with known edits")
    old = synthetic_policy(args.policies, args.words)
    rng = random.Random(20261129)
    kinds = ["modify", "one_word", "add", "remove", "move"] * 8
    edited = edits.apply_edits(old, kinds, rng)
    new = edited.text
    old_segs = segment(old, with_tokens=False)
    new_segs = segment(new, with_tokens=False)
    found = align(old_segs, new_segs)
    expected = sorted(
        (e.kind, canonical(e.old_text or ""), canonical(e.new_text or "")) for e in edited.expected
    )
    got = sorted(
        (c.kind, canonical(c.old.text) if c.old else "", canonical(c.new.text) if c.new else "")
        for c in found.changes
    )
    print(
        f"  {len(old.split()):,} -> {len(new.split()):,} words, {len(old_segs)} -> {len(new_segs)} "
        f"clauses; {len(edited.expected)} known edits, clausewatch found {found.counts()} "
        f"({'exactly the known edits' if got == expected else 'NOT exactly the known edits'})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = Path(tmp) / "old.md", Path(tmp) / "new.md"
        old_path.write_text(old, encoding="utf-8")
        new_path.write_text(new, encoding="utf-8")
        git_time = best_time(lambda: git_word_diff(old_path, new_path), args.repeat)
        git_rss = git_peak_rss_kb(old_path, new_path)
    difflib_time = best_time(lambda: difflib_word_diff(old, new), args.repeat)
    cw_time = best_time(lambda: clausewatch_diff(old, new), args.repeat)
    seg_time = best_time(lambda: segment(new, with_tokens=False), args.repeat)
    align_time = best_time(lambda: align(old_segs, new_segs), args.repeat)
    # what the archive does for a new version: segment it, align with the stored clauses
    archive_time = best_time(lambda: align(old_segs, segment(new, with_tokens=False)), args.repeat)
    warm_time = best_time_warm(lambda: align(old_segs, new_segs), args.repeat)
    get_encoding()  # load the vocabulary once, outside the timing
    tokens_time = best_time(lambda: segment(new), args.repeat)
    print(row("git diff --no-index --word-diff", git_time, git_time))
    print(row("difflib (lines, then words)", difflib_time, git_time))
    print(row("clausewatch segment + align", cw_time, git_time))
    print(row("  of which segmenting one version", seg_time, git_time))
    print(row("clausewatch align only (stored clauses)", align_time, git_time))
    print(row("  same, canonical forms already cached", warm_time, git_time))
    print(row("archive step: segment new + align stored", archive_time, git_time))
    print(row("clausewatch segment with token counts", tokens_time, git_time))
    print("  peak memory:")
    print(f"    git (peak RSS of the process)              {git_rss / 1024:8.1f} MiB")
    print(
        f"    difflib (Python allocations)               "
        f"{peak_python_memory(lambda: difflib_word_diff(old, new)) / 2**20:8.1f} MiB"
    )
    print(
        f"    clausewatch segment + align (Python alloc.) "
        f"{peak_python_memory(lambda: clausewatch_diff(old, new)) / 2**20:7.1f} MiB"
    )
    print(
        f"    clausewatch align only (Python alloc.)      "
        f"{peak_python_memory(lambda: align(old_segs, new_segs)) / 2**20:7.1f} MiB"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"    this benchmark process, peak RSS           {rss / 1024:8.1f} MiB")


if __name__ == "__main__":
    main()
