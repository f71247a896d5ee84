"""``shareguard gateway``: the Postfix content filter (docs/postfix.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from shareguard import logs
from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError

app = typer.Typer(
    help="The SMTP gateway: a Postfix after-queue content filter (docs/postfix.md).",
    invoke_without_command=True,
)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def run(
    ctx: typer.Context,
    listen: Annotated[
        str | None, typer.Option(help="host:port to listen on (LMTP from Postfix)")
    ] = None,
    reinject: Annotated[
        str | None, typer.Option(help="host:port of Postfix's re-entry smtpd")
    ] = None,
) -> None:
    """Run the filter until SIGTERM: scan each message Postfix hands over,
    decide per recipient, pass on / hold / refuse.  Errors answer 451 (Postfix
    retries); nothing is passed on unscanned."""
    if ctx.invoked_subcommand is not None:
        return
    from shareguard.gateway.server import Gateway

    settings = get_settings()
    logs.configure(settings.log_format)
    gateway = Gateway(
        settings, listen or settings.gateway.listen, reinject or settings.gateway.reinject
    )
    try:
        asyncio.run(gateway.serve())
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:  # the port is taken, or not ours to bind
        raise fail(f"cannot listen on {gateway.listen}: {exc.strerror or exc}") from None


@app.command()
def release(
    reinject: Annotated[
        str | None, typer.Option(help="host:port of Postfix's re-entry smtpd")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """One pass of the release loop, for use without a running gateway:
    re-inject approved held messages (exactly once), tell senders about holds
    and rejections."""
    from shareguard.gateway.reinject import Reinjector
    from shareguard.gateway.release import Releaser
    from shareguard.gateway.server import host_port

    settings = get_settings()
    engine = open_engine(settings, migrate=True)
    try:
        host, port = host_port(reinject or settings.gateway.reinject, "--reinject")
    except ShareGuardError as exc:
        raise fail(str(exc)) from None

    async def once() -> dict[str, object]:
        reinjector = Reinjector(
            host, port, timeout=settings.gateway.reinject_timeout_seconds, size=1
        )
        try:
            releaser = Releaser(
                engine, settings.secret_key_bytes(), reinjector, settings.gateway.postmaster
            )
            c = await releaser.run_once()
        finally:
            await reinjector.close()
        return {
            "notified": c.notified,
            "released": c.released,
            "rejected": c.rejected,
            "failed": c.failed,
            "errors": c.errors,
        }

    counts = asyncio.run(once())
    if fmt is Format.json:
        sys.stdout.write(json.dumps(counts) + "\n")
    else:
        Console().print(
            f"released {counts['released']}, notices {counts['notified']} held / "
            f"{counts['rejected']} rejected, failed {counts['failed']}"
        )
        for e in counts["errors"]:  # type: ignore[attr-defined]
            err.print(f"[yellow]warning:[/] {e}")
    if counts["failed"]:
        raise typer.Exit(1)
