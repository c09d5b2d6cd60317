"""Latency of the review app with a large queue: service calls and full HTTP round trips.

    .venv/bin/python benchmarks/review_app.py [--drafts N] [--database-url URL]

Seeds N drafts (realistic analyses written for the tests) into a fresh workspace, then times
list_drafts, GET /queue (default: open drafts, newest first), GET /queue sorted by exposure,
GET /drafts/{id}, a saved edit (POST, redirect followed) and a login (argon2 verification).
Prints the median and p95 of each in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["CLAUSEWATCH_HOME"] = home
        os.environ["CLAUSEWATCH_REVIEW_RUN_REDRAFTS"] = "false"
        if args.database_url:
            os.environ["CLAUSEWATCH_DATABASE_URL"] = args.database_url
        from fastapi.testclient import TestClient
        from review_helpers import add_user, analysis, csrf_of, login, seed_draft

        from clausewatch.review import service
        from clausewatch.review.web.app import create_app
        from clausewatch.storage.db import get_engine, session_scope

        get_engine()
        rng = random.Random(7)
        levels = ["Low", "Medium", "High"]
        with session_scope() as db:
            ids = [
                seed_draft(
                    db,
                    platform=f"platform-{i % 38}",
                    status=rng.choice(["pending"] * 6 + ["flagged", "approved", "rejected"]),
                    data=analysis(exposure={"level": rng.choice(levels), "rationale": "r"}),
                )
                for i in range(args.drafts)
            ]
        add_user("bench")
        client = TestClient(create_app())
        login(client, "bench")
        target = ids[len(ids) // 2]
        with session_scope() as db:
            service.get_draft(db, target).status = "pending"

        def list_open() -> object:
            with session_scope() as db:
                return service.list_drafts(db)

        def edit() -> object:
            html = client.get(f"/drafts/{target}").text
            form = {
                "csrf_token": csrf_of(html),
                "lock_version": html.split('name="lock_version" value="', 1)[1].split('"', 1)[0],
            }
            # the analysis as stored, with a new title (fields the form would send)
            with session_scope() as db:
                current = service.get_draft(db, target).analysis or {}
            form["title"] = f"Title {time.perf_counter()}"
            for key in (
                "summary",
                "key_point",
                "interpretive_note",
                "what_this_means",
                "excerpt",
                "contract_vendor_implications",
            ):
                form[key] = current[key]
            form["exposure-level"] = current["exposure"]["level"]
            form["exposure-rationale"] = current["exposure"]["rationale"]
            form["compliance_considerations"] = "\n".join(current["compliance_considerations"])
            data: dict[str, object] = dict(form)
            data["categories"] = current["categories"]
            resp = client.post(f"/drafts/{target}/edit", data=data)
            assert "Saved: title" in resp.text, resp.text[:500]
            return resp

        with session_scope() as db:
            open_count = service.status_counts(db)["open"]
        print(f"drafts: {args.drafts} ({open_count} open); runs per figure: {args.runs}")
        figures = {
            "service list_drafts (open, newest)": lambda: list_open(),
            "GET /queue": lambda: client.get("/queue"),
            "GET /queue?sort=exposure&exposure=High": lambda: client.get(
                "/queue?sort=exposure&exposure=High"
            ),
            "GET /drafts/{id}": lambda: client.get(f"/drafts/{target}"),
            "edit: GET page + POST + redirect": edit,
        }
        for name, fn in figures.items():
            median, p95 = _time(fn, args.runs)
            print(f"{name:42s} median {median:8.1f} ms   p95 {p95:8.1f} ms")
        from clausewatch.review.accounts import authenticate

        def auth() -> object:
            with session_scope() as db:
                return authenticate(db, "bench", "correct horse battery", "127.0.0.9")

        median, p95 = _time(auth, 10)
        label = "login (argon2 verify + attempt row)"
        print(f"{label:42s} median {median:8.1f} ms   p95 {p95:8.1f} ms")


if __name__ == "__main__":
    main()
