"""Where settings come from (never a stray ``./.env``) and that every one is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import AliasChoices
from typer.testing import CliRunner

from clausewatch.cli import app
from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings, get_settings, reset_settings

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "clausewatch", "storage", "schemas", "archive", "clauses", "vectorstore", "regulations",
    "llm", "drafting", "prompts", "classifier", "review", "publication", "flows", "evals",
)  # fmt: skip
HOSTILE_DOTENV = (
    "CLAUSEWATCH_LLM_BASE_URL=http://attacker.example/v1\n"
    "CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES=true\n"
    "OPENAI_API_KEY=sk-from-dotenv\n"
)


@pytest.fixture
def elsewhere(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory holding a hostile ``.env``."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".env").write_text(HOSTILE_DOTENV, encoding="utf-8")
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("CLAUSEWATCH_ENV_FILE", raising=False)
    monkeypatch.delenv("CLAUSEWATCH_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", raising=False)
    reset_settings()
    return cwd


def test_a_dotenv_in_the_current_directory_is_not_read(elsewhere: Path) -> None:
    settings = get_settings()
    assert settings.llm_base_url is None
    assert settings.allow_private_addresses is False
    assert settings.openai_api_key is None


def test_the_workspace_settings_file_and_an_explicit_one_are_read(
    elsewhere: Path, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "settings.env").write_text(
        "CLAUSEWATCH_SITE_TITLE=From the workspace\nCLAUSEWATCH_SMTP_PORT=2525\n"
    )
    settings = get_settings()
    assert (settings.site_title, settings.smtp_port) == ("From the workspace", 2525)

    monkeypatch.setenv("CLAUSEWATCH_SMTP_PORT", "465")  # the environment wins over the file
    reset_settings()
    assert get_settings().smtp_port == 465

    explicit = tmp_path / "prod.env"
    explicit.write_text("CLAUSEWATCH_SITE_TITLE=Explicit\n")
    monkeypatch.setenv("CLAUSEWATCH_ENV_FILE", str(explicit))
    reset_settings()
    assert get_settings().site_title == "Explicit"  # instead of <workspace>/settings.env

    monkeypatch.setenv("CLAUSEWATCH_ENV_FILE", str(tmp_path / "missing.env"))
    reset_settings()
    with pytest.raises(ConfigError, match=r"missing\.env: no such file"):
        get_settings()


def test_commands_say_on_stderr_which_settings_file_they_read(
    elsewhere: Path, workspace: Path
) -> None:
    runner = CliRunner()
    quiet = runner.invoke(app, ["version"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout.strip() and "settings:" not in quiet.stdout
    assert f"settings: {elsewhere / '.env'} is not read" in quiet.stderr

    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "settings.env").write_text("CLAUSEWATCH_SITE_TITLE=x\n")
    used = runner.invoke(app, ["version"])
    assert used.exit_code == 0, used.output
    assert f"settings: environment and {(workspace / 'settings.env').resolve()}" in used.stderr
    assert "settings:" not in used.stdout


def _configuration_table() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


def _documented() -> set[str]:
    return set(re.findall(r"`((?:CLAUSEWATCH|OPENAI)_[A-Z0-9_]+)`", _configuration_table()))


def _env_names(name: str) -> set[str]:
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return {str(choice) for choice in alias.choices}
    return {f"CLAUSEWATCH_{name.upper()}"}


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    documented = _documented()
    missing = [
        "/".join(sorted(_env_names(name)))
        for name in Settings.model_fields
        if not _env_names(name) <= documented
    ]
    assert not missing, f"add these settings to the README's Configuration table: {missing}"


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    """Variables read with os.environ outside the settings class are documented too."""
    documented = _documented()
    used: set[str] = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            used |= set(re.findall(r"\bCLAUSEWATCH_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    assert not sorted(used - documented)
