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


class WebSettings(BaseModel):
    """The web portal's sessions, sign-in limits and SSO (docs/web.md)."""

    model_config = {"frozen": True}

    session_idle_minutes: int = Field(default=30, ge=1, description="signed out after this idle")
    session_max_hours: int = Field(default=12, ge=1, description="signed out after this at most")
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure cookie flag; unset: Secure except plain http to a loopback host (dev)",
    )
    sso_header: str | None = Field(
        default=None, description="header naming the user (e.g. X-Remote-User); off if unset"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses/networks whose SSO header is believed"
    )
    login_max_failures: int = Field(default=5, ge=1, description="failed sign-ins per window")
    login_window_minutes: int = Field(default=15, ge=1)


class GatewaySettings(BaseModel):
    """The SMTP gateway (``shareguard gateway``): a Postfix after-queue
    content filter speaking LMTP, re-injecting to a second Postfix smtpd."""

    model_config = {"frozen": True}

    listen: str = Field(default="127.0.0.1:10025", description="host:port the filter listens on")
    reinject: str = Field(
        default="127.0.0.1:10026", description="host:port of Postfix's re-entry smtpd"
    )
    postmaster: str = Field(
        default="postmaster@localhost", description="sender of hold and rejection notices"
    )
    max_message_bytes: int = Field(
        default=64 * MiB, description="larger messages are refused (552), never passed"
    )
    max_scan_bytes: int = Field(
        default=32 * MiB, description="larger messages are uninspectable: the policy decides"
    )
    concurrency: int = Field(default=8, ge=1, description="messages handled at once")
    scan_workers: int = Field(default=2, ge=1, description="scanning processes")
    slot_wait_seconds: float = Field(
        default=10.0, description="wait for a free slot before answering 451 (overload)"
    )
    message_timeout_seconds: float = Field(
        default=300.0, description="scan and decision of one message, else 451"
    )
    reinject_timeout_seconds: float = Field(default=60.0)
    release_interval_seconds: float = Field(
        default=5.0, description="how often approved and rejected items are looked for"
    )


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
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    web: WebSettings = Field(default_factory=WebSettings)
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
