"""One exception hierarchy for everything ShareGuard raises on purpose.

Messages name the file, line or cell and what to do, and never contain the
personal data being handled.
"""

from __future__ import annotations


class ShareGuardError(Exception):
    """Base class; the CLI turns these into a clear message and exit code 2."""


class ConfigError(ShareGuardError):
    """Settings or secret key are missing or invalid."""


class InputError(ShareGuardError):
    """A path or argument given by the user cannot be used."""
