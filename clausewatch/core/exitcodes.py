"""Exit codes of ``clausewatch`` commands (documented in the README, "Operating it")."""

from __future__ import annotations

OK = 0  # the run finished and every document and change went through
FAILED = 1  # the run failed (or a command's work failed as a whole)
USAGE = 2  # bad arguments, settings or input: nothing was done
PARTIAL = 3  # the run finished, but some documents or changes failed (see the summary)
BUSY = 4  # another run holds the database's run lock (``--wait`` to wait for it)
SIGINT = 130  # interrupted by Ctrl-C (128 + SIGINT); the run is recorded "interrupted"
SIGTERM = 143  # stopped by SIGTERM (128 + SIGTERM); the run is recorded "interrupted"

RUN_STATUS_CODES = {"ok": OK, "partial": PARTIAL, "failed": FAILED}
