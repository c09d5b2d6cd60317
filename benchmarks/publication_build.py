"""Site build time for N approved analyses (synthetic fictional platforms).

    .venv/bin/python benchmarks/publication_build.py [--analyses 500] [--platforms 30]

Seeds a throw-away SQLite workspace with P platforms x 2 documents, 4 versions each, and N
approved analyses (plus as many unapproved drafts), then times: the first build, an unchanged
rebuild (must write 0 files), a rebuild after one more approval, and same-day alert selection
with no subscriber endpoints (the catalog load that alerts and digests share).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.publication_demo: the fixture builders

from clausewatch.schemas.taxonomy import CATEGORIES  # noqa: E402


def _analysis(i: int, platform: str, excerpt: str) -> dict[str, object]:
    cats = [CATEGORIES[i % len(CATEGORIES)], CATEGORIES[(i * 7 + 3) % len(CATEGORIES)]]
    return {
        "title": f"{platform} clause {i} changes how data is handled",
        "categories": sorted(set(cats)),
        "summary": f"Synthetic summary {i}. " * 8,
        "key_point": f"Synthetic key point {i}.",
        "interpretive_note": "What cannot be concluded from the text alone.",
        "what_this_means": "What it means for an organisation using the service. " * 3,
        "excerpt": excerpt,
        "comparisons": [
            {"platform": "bench-0", "clause_id": "c-0-0", "excerpt": "x", "note": "A note."}
        ],
        "regulatory_landscape": [
            {"provision_id": "gdpr:28", "title": "GDPR Art. 28", "relevance": "Processor terms."}
        ],
        "exposure": {"level": ("Low", "Medium", "High")[i % 3], "rationale": "Because."},
        "jurisdiction_flags": [{"jurisdiction": "EU/EEA", "note": "Applies."}],
        "contract_vendor_implications": "Review the DPA.",
        "compliance_considerations": ["Check settings.", "Update the register."],
        "change": {"kind": "modified", "before": "old", "after": excerpt, "summary": "Changed."},
    }


def seed(n_analyses: int, n_platforms: int) -> None:
    from clausewatch.storage.db import session_scope
    from tests.publication_demo import (
        add_change,
        add_document,
        add_draft,
        add_version,
        clause_of,
    )

    start = datetime(2025, 1, 6)
    made = 0
    with session_scope() as session:
        for p in range(n_platforms):
            platform = f"bench-{p}"
            for doc_type in ("privacy_policy", "terms_of_service"):
                doc = add_document(session, platform, doc_type)
                clauses_per_doc = max(1, n_analyses // (n_platforms * 2) + 1)
                previous = None
                for v in range(4):
                    clauses = [
                        (f"c-{p}-{k}", f"Clause {k} of {platform} {doc_type}, revision {v}.")
                        for k in range(clauses_per_doc)
                    ]
                    version = add_version(session, doc, start + timedelta(days=60 * v), clauses)
                    if previous is not None:
                        for uid, _ in clauses:
                            change = add_change(session, doc, previous, version, uid)
                            if v == 3 and made < n_analyses:
                                clause = clause_of(session, version, uid)
                                for status in ("approved", "pending"):
                                    add_draft(
                                        session,
                                        doc=doc,
                                        clause_uid=uid,
                                        clause=clause,
                                        change=change,
                                        status=status,
                                        decided_at=start + timedelta(days=200, minutes=made),
                                        analysis=_analysis(made, platform, clause.text),
                                    )
                                made += 1
                    previous = version
    print(f"seeded {made} approved analyses (+{made} pending) over {n_platforms} platforms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--analyses", type=int, default=500)
    parser.add_argument("--platforms", type=int, default=30)
    parser.add_argument("--subscribers", type=int, default=20, help="webhook alert subscribers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        os.environ["CLAUSEWATCH_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("CLAUSEWATCH_DATABASE_URL", None)
        os.environ["CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES"] = "true"  # the loopback webhook server
        from clausewatch.publication.alerts import send_same_day_alerts
        from clausewatch.publication.site import build_site
        from clausewatch.storage.db import session_scope

        seed(args.analyses, args.platforms)
        out = Path(tmp) / "site"
        for label in ("first build", "unchanged rebuild"):
            t0 = time.perf_counter()
            with session_scope() as session:
                report = build_site(session, out)
            elapsed = time.perf_counter() - t0
            print(
                f"{label}: {elapsed:.2f} s, {report.analyses} analyses, {report.written} written, "
                f"{report.unchanged} unchanged, {report.removed} removed"
            )
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        files = sum(1 for p in out.rglob("*") if p.is_file())
        print(f"site: {files} files, {size / 1e6:.1f} MB")
        t0 = time.perf_counter()
        with session_scope() as session:
            send_same_day_alerts(session)
        print(f"alert selection (no subscribers): {time.perf_counter() - t0:.2f} s")
        if args.subscribers:
            webhooks(args.subscribers)


def webhooks(n_subscribers: int) -> None:
    """Same-day alerts for every analysis to N webhook subscribers on a loopback server."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from clausewatch.publication.alerts import send_same_day_alerts
    from clausewatch.publication.subscriptions import add_subscriber
    from clausewatch.storage.db import session_scope

    class Ok(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with session_scope() as session:
        for _ in range(n_subscribers):
            sub = add_subscriber(session, channel="webhook", target=url, platforms=["bench-0"])
            sub.created_at = datetime(2020, 1, 1)
    for label in ("alerts", "rerun"):
        t0 = time.perf_counter()
        with session_scope() as session:
            report = send_same_day_alerts(session)
        elapsed = time.perf_counter() - t0
        print(
            f"{label}: {report.sent} webhooks sent, {report.already_sent} already sent "
            f"in {elapsed:.2f} s"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
