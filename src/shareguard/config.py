"""Settings: one place for every default, overridable by environment.

Environment variables are prefixed ``SHAREGUARD_`` (nested with ``__``), e.g.
``SHAREGUARD_HOME=/srv/shareguard`` or ``SHAREGUARD_LIMITS__MAX_DEPTH=3``.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shareguard.errors import ConfigError

MiB = 1024 * 1024


class Limits(BaseModel):
    """Bounds on untrusted input.  Exceeding one makes the part uninspectable
    (never silently clean)."""

    model_config = {"frozen": True}

    max_file_bytes: int = Field(
        default=512 * MiB, description="largest single part read into memory"
    )
    max_stream_bytes: int = Field(
        default=64 * 1024 * MiB, description="largest delimited-text file streamed from disk"
    )
    max_total_expanded_bytes: int = Field(
        default=1024 * MiB, description="sum of decompressed bytes inside one top-level file"
    )
    max_compression_ratio: float = Field(default=200.0, description="per archive member")
    max_depth: int = Field(default=8, description="containers inside containers")
    max_parts: int = Field(default=10_000, description="parts inside one top-level file")
    max_cells_per_sheet: int = Field(default=20_000_000)
    max_pages: int = Field(default=5_000)
    max_text_chars: int = Field(default=200_000_000, description="text kept per part")
    max_seconds_per_part: float = Field(default=120.0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHAREGUARD_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default=Path("var"), description="data directory (SQLite, keys, quarantine)")
    secret_key: str | None = Field(
        default=None, description="hex secret; generated into HOME/secret.key on first use if unset"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+psycopg://...); default SQLite in HOME",
    )
    policy_file: Path | None = Field(default=None, description="global policy YAML")
    limits: Limits = Field(default_factory=Limits)
    log_format: str = Field(default="auto", description="auto | json | console")
    debug: bool = Field(default=False, description="show tracebacks (may contain data)")
    host: str = "127.0.0.1"
    port: int = 8080

    def secret_key_bytes(self) -> bytes:
        """The root secret.  From the environment if given, else from
        ``HOME/secret.key`` (created with mode 0600 on first use)."""
        if self.secret_key:
            try:
                key = bytes.fromhex(self.secret_key)
            except ValueError as exc:
                raise ConfigError("SHAREGUARD_SECRET_KEY must be hex") from exc
            if len(key) < 32:
                raise ConfigError("SHAREGUARD_SECRET_KEY must be at least 32 bytes (64 hex digits)")
            return key
        path = self.home / "secret.key"
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            pass
        except ValueError as exc:
            raise ConfigError(f"{path} is not a hex key; restore it from backup") from exc
        self.home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return bytes.fromhex(path.read_text().strip())
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex() + "\n")
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
