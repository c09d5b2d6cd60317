"""Import time of the real policies corpus into a fresh workspace, then a re-import.

    .venv/bin/python benchmarks/archive_import.py [DIR] [--database-url URL]

Prints files, versions, clauses and changes recorded, the wall time of the first import
(normalise, snapshot, segment, align, store) and of the second (must add nothing), and the
peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "policies"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["CLAUSEWATCH_HOME"] = home
        if args.database_url:
            os.environ["CLAUSEWATCH_DATABASE_URL"] = args.database_url
        from sqlalchemy import func, select

        from clausewatch.archive.importer import import_tree
        from clausewatch.storage.db import get_engine, session_scope
        from clausewatch.storage.models.archive import Change, Clause, Version

        get_engine()  # migrations are not part of the timing
        started = time.perf_counter()
        first = import_tree(args.directory)
        t_first = time.perf_counter() - started
        started = time.perf_counter()
        second = import_tree(args.directory)
        t_second = time.perf_counter() - started
        with session_scope() as s:
            n = {
                m.__tablename__: s.scalar(select(func.count()).select_from(m))
                for m in (Version, Clause, Change)
            }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {args.directory}")
    print(f"documents {first.documents}, files {first.files}, failed {len(first.failed)}")
    print(f"versions {n['versions']}, clauses {n['clauses']}, changes {n['changes']}")
    print(f"first import: {t_first:.1f} s ({t_first / max(1, first.files) * 1000:.0f} ms/file)")
    print(f"re-import: {t_second:.1f} s, added {second.added}")
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
