"""Settings for every hub process, read from `HUB_*` environment variables.

One `Settings` object is built at process start (`load_settings()`), validated, and passed
down explicitly; nothing below the CLI reads the environment itself. A wrong or missing
setting fails here with a message naming the variable and how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import ConfigurationError

KIB = 1024
MIB = 1024 * KIB


class Settings(BaseSettings):
    """Every knob of the hub. Field `foo` is read from `HUB_FOO`."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", frozen=True)

    home: Path = Field(default=Path(".hub"), description="Data folder of the embedded default.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in HUB_HOME."
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker; default an embedded one in HUB_HOME."
    )
    master_key: SecretStr | None = Field(
        default=None, description="Master key ring: 'id:base64key[,id:base64key...]'."
    )
    master_key_file: Path | None = None
    transport_key: SecretStr | None = Field(
        default=None, description="Transport key shared by hub and workers: 'id:base64key'."
    )
    transport_key_file: Path | None = None
    log_format: Literal["json", "console"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # The secret store's rules.
    min_secret_length: int = Field(default=8, ge=1, le=64)
    max_text_bytes: int = Field(default=64 * KIB, ge=1)
    max_file_bytes: int = Field(default=1 * MIB, ge=1)
    recovery_window_days: int = Field(default=7, ge=0, le=365)
    retention_max_versions: int | None = Field(default=None, ge=1)
    retention_max_age_days: int | None = Field(default=None, ge=1)

    # Dispatch.
    seal_ttl_seconds: int = Field(default=3600, ge=1)

    # Operator CLI talking to a running hub.
    url: str = "http://127.0.0.1:8000"
    token: SecretStr | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def effective_database_url(self) -> str:
        """The database to use: `HUB_DATABASE_URL` or SQLite inside `HUB_HOME`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'hub.db').resolve()}"

    def ensure_home(self) -> Path:
        """Create `HUB_HOME` (private to this user) and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "HUB_" + "_".join(str(part) for part in error["loc"]).upper()
            # Never echo the offending input: it may be a key.
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError(
            "invalid settings: " + "; ".join(problems) + " (fix the environment variable)"
        ) from None
