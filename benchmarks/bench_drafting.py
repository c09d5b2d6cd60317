"""Draft analyses of real changed clauses with a real backend (default: the local model).

Picks N modified clauses (one per document, 150-1500 characters) from consecutive versions
in ../shared/data/policies, drafts each through the production path (retrieval when the
workspace's vector store is indexed, prompt, per-call schema, validation, grounding,
re-asks) and prints per draft and overall:

- schema-valid rate: first answers that parse and fit the schema
- grounding rate: first answers that also pass the grounding checks
- quality (nothing compared/cited, repeated fields, copied clause) and final outcome
- re-asks per draft, tokens in/out per draft, seconds per draft

Usage: CLAUSEWATCH_HOME=... python benchmarks/bench_drafting.py [--n 10] [--backend local]
The LLM answer cache is switched off so every draft is a real call; the request timeout
is raised (a loaded machine is slow, and a timed-out request would start over).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ["CLAUSEWATCH_LLM_CACHE"] = "false"
# a loaded 2-core machine can take minutes per answer: wait rather than give up on a draft
os.environ.setdefault("CLAUSEWATCH_LLM_DRAFT_BUDGET_S", "1800")
os.environ.setdefault("CLAUSEWATCH_LLM_RETRIES", "0")

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO.parent / "shared" / "data" / "policies"
sys.path.insert(0, str(REPO))


def pick_changes(n: int) -> list[tuple[str, str, str, object, object]]:
    """(platform, doc_type, date, ClauseInput, ChangeInput) for N modified clauses."""
    from clausewatch.clauses.align import align
    from clausewatch.clauses.segment import segment
    from clausewatch.drafting.context import ChangeInput, ClauseInput

    picked = []
    # one document per platform (privacy policy first), platforms in name order
    platforms = sorted(p for p in POLICIES.iterdir() if p.is_dir())
    docs = [
        next(d for d in (p / "privacy_policy", p / "terms_of_service") if d.is_dir())
        for p in platforms
        if any(d.is_dir() for d in (p / "privacy_policy", p / "terms_of_service"))
    ]
    for doc in docs:
        files = sorted(doc.glob("*.md"))
        found = None
        for old_path, new_path in itertools.pairwise(files):
            old = segment(old_path.read_text(encoding="utf-8"), with_tokens=False)
            new = segment(new_path.read_text(encoding="utf-8"), with_tokens=False)
            for ch in align(old, new).changes:
                if ch.kind != "modified" or ch.old is None or ch.new is None:
                    continue
                if not 150 <= len(ch.new.text) <= 1500 or ch.new.text.count("|") > 4:
                    continue
                platform, doc_type = doc.parent.name, doc.name
                found = (
                    platform,
                    doc_type,
                    new_path.stem,
                    ClauseInput(ch.new.id, ch.new.text, platform, doc_type, list(ch.new.path)),
                    ChangeInput(
                        kind="modified",
                        old_text=ch.old.text,
                        new_text=ch.new.text,
                        old_path=list(ch.old.path),
                        new_path=list(ch.new.path),
                    ),
                )
                break
            if found:
                break
        if found:
            picked.append(found)
        if len(picked) >= n:
            break
    return picked[:n]


def summarize(all_rows: list[dict[str, Any]], *, final: bool = False) -> None:
    """Print the rates and means over the drafts so far."""
    rows = all_rows
    if not rows:
        print("no drafts")
        return
    failed = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    print(f"\n{len(failed)} transport failures (not counted below)")
    if not rows:
        return
    n = len(rows)

    def rate(key: str) -> str:
        k = sum(1 for r in rows if r[key])
        return f"{k}/{n} ({100 * k / n:.0f}%)"

    print("\nsummary" if final else "\nso far")
    print(f"  schema-valid (first answer)  {rate('first_schema_valid')}")
    print(f"  grounded (first answer)      {rate('first_grounded')}")
    print(f"  passes quality (first)       {rate('first_ok')}")
    print(f"  accepted after re-asks       {rate('ok')}")
    print(f"  flagged with a best effort   {rate('best_effort')}")
    print(f"  re-asks per draft            {statistics.mean(r['reasks'] for r in rows):.2f}")
    print(f"  tokens in per draft          {statistics.mean(r['tokens_in'] for r in rows):.0f}")
    print(f"  tokens out per draft         {statistics.mean(r['tokens_out'] for r in rows):.0f}")
    secs = [r["seconds"] for r in rows]
    print(
        f"  seconds per draft            mean {statistics.mean(secs):.1f}, "
        f"median {statistics.median(secs):.1f}, max {max(secs):.1f}"
    )
    print(f"  load average now             {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--backend", default="local")
    parser.add_argument("--out", type=Path, default=None, help="write per-draft JSON here")
    args = parser.parse_args()

    from clausewatch.core.errors import ClausewatchError
    from clausewatch.drafting.engine import draft_analysis
    from clausewatch.drafting.service import build_context
    from clausewatch.llm.factory import get_llm
    from clausewatch.storage.db import session_scope

    changes = pick_changes(args.n)
    print(f"{len(changes)} changed clauses; backend {args.backend}", flush=True)
    llm = get_llm(args.backend)
    rows: list[dict[str, Any]] = []
    try:
        for platform, doc_type, date, clause, change in changes:
            t0 = time.perf_counter()
            with session_scope() as session:
                ctx = build_context(session, clause, change)  # type: ignore[arg-type]
            t_ctx = time.perf_counter() - t0
            try:
                out = draft_analysis(ctx, llm)
            except ClausewatchError as exc:  # transport failure: record it, go on
                seconds = time.perf_counter() - t0
                print(f"{platform:22} {doc_type:16} error after {seconds:.0f}s: {exc}", flush=True)
                rows.append({"platform": platform, "error": str(exc), "seconds": seconds})
                continue
            seconds = time.perf_counter() - t0
            first = out.attempts[0]
            row = {
                "platform": platform,
                "doc_type": doc_type,
                "date": date,
                "clause_chars": len(clause.text),  # type: ignore[attr-defined]
                "comparables": len(ctx.comparables),
                "regulations": len(ctx.regulations),
                "first_schema_valid": first["outcome"] in ("ok", "grounding", "quality"),
                "first_grounded": first["outcome"] in ("ok", "quality"),
                "first_ok": first["outcome"] == "ok",
                "ok": out.ok,
                "best_effort": out.best_effort is not None,
                "reasks": out.reasks,
                "outcomes": [a["outcome"] for a in out.attempts],
                "errors": [e for a in out.attempts for e in a["errors"]][:6],
                "tokens_in": out.tokens_in,
                "tokens_out": out.tokens_out,
                "seconds": round(seconds, 1),
                "context_seconds": round(t_ctx, 1),
                "analysis": out.analysis.model_dump(mode="json") if out.analysis else None,
            }
            rows.append(row)
            print(
                f"{platform:22} {doc_type:16} ok={out.ok!s:5} attempts={row['outcomes']} "
                f"cmp={row['comparables']} regs={row['regulations']} "
                f"tok={out.tokens_in}+{out.tokens_out} {seconds:.0f}s",
                flush=True,
            )
            if out.analysis is not None:
                a = out.analysis
                print(
                    f"    {a.title!r} {a.categories} exposure={a.exposure.level} "
                    f"regs={[r.provision_id for r in a.regulatory_landscape]} "
                    f"cmp={[c.platform for c in a.comparisons]}",
                    flush=True,
                )
            else:
                print(f"    errors: {row['errors'][:3]}", flush=True)
            summarize(rows)
    finally:
        llm.close()
    summarize(rows, final=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
