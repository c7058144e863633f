"""`hubctl db upgrade|status` on real databases."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub import db
from hub.cli import app


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_upgrade_migrates_an_empty_database_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": url}
    code, out, err = run(env, "db", "status")
    assert code == 1 and "db upgrade" in out
    code, out, err = run(env, "db", "upgrade")
    assert code == 0, err
    assert f"from empty to {db.head_revision()}" in out
    engine = db.make_engine(url)
    try:
        db.require_current_schema(engine)
    finally:
        engine.dispose()
    assert run(env, "db", "status")[0] == 0


def test_upgrade_at_head_changes_nothing_and_says_so(database_url: str,
                                                     tmp_path: Path) -> None:
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": database_url}
    code, out, err = run(env, "db", "upgrade")
    assert code == 0, err
    assert "already at" in out


def test_an_unreachable_database_fails_clearly(tmp_path: Path) -> None:
    env = {"HUB_HOME": str(tmp_path / "home"),
           "HUB_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    code, _out, err = run(env, "db", "upgrade")
    assert code == 2
    assert "cannot reach the database" in err
