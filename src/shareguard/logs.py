"""Structured logging: JSON in services, readable on a terminal.

Log events carry counts, types, ids and keyed hashes, never values.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure(fmt: str = "auto", level: int = logging.INFO) -> None:
    """``fmt`` is ``json``, ``console`` or ``auto`` (console on a terminal)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        # not cached: loggers are used once per file, and tests must be able
        # to capture events after the CLI has configured logging
        cache_logger_on_first_use=False,
    )
