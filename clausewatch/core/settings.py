"""Settings read from the environment (prefix ``CLAUSEWATCH_``) and one settings file.

The settings file is ``CLAUSEWATCH_ENV_FILE`` when set (it must exist), else
``<workspace>/settings.env`` when it exists; the workspace is ``CLAUSEWATCH_HOME`` from the
environment or ``~/.clausewatch``. A ``.env`` in the current directory is never read: whoever
can write to the directory a command runs in could otherwise point the LLM at another host or
turn off the SSRF guard. Environment variables win over the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from clausewatch.core.errors import ConfigError

ENV_FILE_VAR = "CLAUSEWATCH_ENV_FILE"
SETTINGS_FILE = "settings.env"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the clausewatch package folder
SAMPLE_SOURCES = PACKAGE_DIR / "sample" / "sources.yaml"


def default_home() -> Path:
    return Path.home() / ".clausewatch"


class Settings(BaseSettings):
    """Every knob of clausewatch; each is documented in the README's Configuration table
    (a test checks). Environment variables win over the settings file."""

    model_config = SettingsConfigDict(
        env_prefix="CLAUSEWATCH_", env_file=None, extra="ignore", populate_by_name=True
    )

    # the settings file (see settings_file(); read before the others, listed for completeness)
    env_file: Path | None = None

    # workspace: database, snapshots, vector store, model files, published site
    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    sources_file: Path | None = None
    # bundled list names or declaration files, comma-separated (wins over sources_file)
    sources: str | None = None

    # shared storage of raw snapshots, the published site and Prefect results
    # (clausewatch.storage.files): a folder (default: the workspace) or an fsspec URL such as
    # s3://bucket/prefix; endpoint, key and secret for S3-compatible stores (unset key and
    # secret: the standard AWS credential chain)
    storage_url: str | None = None
    storage_endpoint_url: str | None = None
    storage_key: str | None = None
    storage_secret: SecretStr | None = None

    # fetching
    allow_private_addresses: bool = False
    # file: sources must lie under this folder (default: the declarations file's folder)
    file_root: Path | None = None
    fetch_timeout_s: float = 30.0
    fetch_max_bytes: int = 20 * 1024 * 1024
    fetch_retries: int = 3
    fetch_backoff_s: float = 1.0  # first retry delay; doubles each retry (jittered)
    fetch_max_redirects: int = 5
    user_agent: str = "clausewatch/0.1 (+https://github.com/clausewatch/clausewatch; monitor)"
    # rendering pages that need JavaScript (archive.render): the system Chromium, and how long
    # to wait after the page loaded for its scripts to settle (no network for 0.5 s)
    chromium: str = "/usr/bin/chromium"
    render_settle_s: float = Field(default=5.0, ge=0)

    # vector store and embeddings
    chroma_url: str | None = None
    chroma_namespace: str | None = None  # default: db-<hash of the database URL>
    # a chroma server's credentials, extra headers (JSON object), tenant and database
    # (vectorstore.server)
    chroma_token: SecretStr | None = None
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = "Authorization"  # noqa: S105
    chroma_headers: SecretStr | None = None
    chroma_tenant: str | None = None
    chroma_database: str | None = None
    embedding_backend: Literal["minilm", "openai"] = "minilm"
    embedding_model: str = "text-embedding-3-small"
    embedding_base_url: str | None = None

    # LLM
    llm_backend: Literal["auto", "openai", "openai-compatible", "local", "fake"] = "auto"
    llm_model: str | None = None
    llm_base_url: str | None = None
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CLAUSEWATCH_OPENAI_API_KEY")
    )
    llm_max_reasks: int = 2
    llm_concurrency: int = 1
    llm_threads: int | Literal["auto"] = "auto"  # llm.threads: free physical cores at start
    llm_context_tokens: int = 8192

    # monitoring runs: one at a time per database (storage.runlock); a second run waits this
    # long for the first (0: it exits at once, code 4)
    run_lock_wait_s: float = Field(default=0.0, ge=0)

    # monitoring runs: which changes get drafted
    draft_recent_versions: int = Field(
        default=2, ge=1, description="draft the changes of each document's N newest versions"
    )
    max_drafts_per_run: int | None = Field(default=None, ge=1)
    # drafting time of one run: drafts past it wait for the next run (highest exposure first)
    run_draft_budget_min: float = Field(default=30.0, ge=0)
    # where a run's drafts are written: in the run's own process, or by Prefect task workers
    # (`clausewatch worker`) that the run waits for or hands the queue to (flows.dispatch)
    draft_mode: Literal["process", "wait", "handoff"] = "process"
    # a task worker's claim on a change lasts this long unless renewed (every third of it)
    draft_lease_s: float = Field(default=120.0, ge=1)
    # re-asks for quality-only failures; None: none on the local backend, else llm_max_reasks
    drafting_quality_reasks: int | None = Field(default=None, ge=0)

    # drafting: how much retrieval context goes into one prompt
    drafting_comparables: int = 3
    drafting_regulations: int = 6
    drafting_examples: int = 2
    llm_api_key: SecretStr | None = None  # for openai-compatible gateways that need one
    llm_retries: int = 3  # re-sends after a failure before any token (connection, 429, 5xx)
    llm_retry_wait_s: float = 2.0  # first back-off; doubles per attempt, capped at 30 s
    llm_cache: bool = True  # reuse stored answers for identical requests
    llm_local_start_timeout_s: float = 180.0  # loading the local model and health check
    llm_local_idle_s: float = 300.0  # keep the local server this long after last close
    llm_stall_s: float = Field(default=120.0, gt=0)  # no token for this long: StallTimeout
    # every LLM call of one draft (re-asks included) must finish within this: BudgetExceeded
    llm_draft_budget_s: float = Field(default=600.0, gt=0)

    # review app
    secret_key: SecretStr | None = None  # unset: generated once into <home>/review-secret-key
    review_secure_cookies: bool = False  # set when served over HTTPS (adds Secure to cookies)
    review_session_hours: float = 12.0
    review_run_redrafts: bool = True  # the app runs drafting.process_redrafts after a request
    # the whole request body (every field and file together); larger requests get 413
    review_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # publication: site, feeds, alerts and digests
    site_url: str = "https://clausewatch.example/"  # absolute base for feed and alert links
    site_title: str = "clausewatch"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "clausewatch <alerts@clausewatch.example>"
    smtp_timeout_s: float = 30.0
    webhook_timeout_s: float = 10.0
    delivery_attempts: int = 3  # tries per delivery within one run (back-off in between)
    delivery_backoff_s: float = 1.0  # first back-off; doubles each try
    delivery_max_runs: int = 5  # runs that retry a failed delivery before giving up

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'clausewatch.db'}"

    @property
    def storage(self) -> str:
        """The storage URL: ``storage_url``, or the workspace folder."""
        return self.storage_url or str(self.home)

    @property
    def snapshots_dir(self) -> Path:
        """The local snapshots folder (meaningful when the storage is a folder)."""
        return _local_storage_root(self) / "snapshots"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def site_dir(self) -> Path:
        """The local site folder (meaningful when the storage is a folder)."""
        return _local_storage_root(self) / "site"

    @property
    def sources_path(self) -> Path:
        return self.sources_file or SAMPLE_SOURCES

    def ensure_home(self) -> Path:
        """The workspace, created mode 700 when it does not exist yet."""
        from clausewatch.core.workspace import make_private_dirs

        return make_private_dirs(self.home)


def is_local_url(url: str) -> bool:
    """Whether a storage URL names a local folder (a path or ``file://``)."""
    return "://" not in url or url.startswith("file://")


def _local_storage_root(settings: Settings) -> Path:
    url = settings.storage
    if not is_local_url(url):
        return settings.home
    return Path(url.removeprefix("file://")).expanduser()


def settings_file() -> Path | None:
    """The settings file to read: ``CLAUSEWATCH_ENV_FILE`` (which must exist), else
    ``<workspace>/settings.env`` if it exists, else none. Never ``./.env``."""
    explicit = os.environ.get(ENV_FILE_VAR, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{ENV_FILE_VAR}={explicit}: no such file")
        return path.resolve()
    home = os.environ.get("CLAUSEWATCH_HOME", "").strip()
    candidate = (Path(home).expanduser() if home else default_home()) / SETTINGS_FILE
    return candidate.resolve() if candidate.is_file() else None


def ignored_dotenv(cwd: Path | None = None) -> Path | None:
    """``./.env`` when it holds clausewatch settings, which are not read from there."""
    path = (cwd or Path.cwd()) / ".env"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "CLAUSEWATCH_" in text or "OPENAI_API_KEY" in text:
        return path
    return None


def settings_source_lines() -> list[str]:
    """What to say at start-up (on stderr) about where settings come from: the settings file
    when one is read, and a ``./.env`` that is not."""
    lines = []
    used = settings_file()
    if used is not None:
        lines.append(f"settings: environment and {used}")
    dotenv = ignored_dotenv()
    if dotenv is not None and dotenv.resolve() != used:
        lines.append(
            f"settings: {dotenv} is not read (use {ENV_FILE_VAR}={dotenv} or "
            f"<workspace>/{SETTINGS_FILE})"
        )
    return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(_env_file=settings_file())


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
