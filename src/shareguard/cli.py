"""The ``shareguard`` command.  Thin: parses arguments, calls the pipeline,
renders the result."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shareguard import __version__, logs
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError
from shareguard.model import FileReport
from shareguard.pipeline import expand_paths, iter_scanned
from shareguard.render import (
    file_to_json,
    print_table,
    summarise,
    summary_json,
    to_sarif,
)

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_ERROR = 2

# The commands that need the database, the policies or the store, imported
# only when one of them runs or --help lists them: SQLAlchemy and friends
# would otherwise double the start-up time of every ``shareguard scan``.
_LAZY = {
    "check": "shareguard.commands.check:check",
    "agreements": "shareguard.commands.agreements:app",
    "approvals": "shareguard.commands.approvals:app",
    "audit": "shareguard.commands.audit:app",
    "db": "shareguard.commands.db:app",
    "gateway": "shareguard.commands.gateway:app",
    "minimise": "shareguard.commands.minimise:minimise",
    "incident": "shareguard.commands.incident:app",
    "datasets": "shareguard.commands.datasets:app",
    "users": "shareguard.commands.users:app",
}
_ORDER = (
    *("scan", "serve", "check", "minimise", "version"),
    *("agreements", "approvals", "audit", "db", "gateway"),
    "incident",
    "datasets",
    "users",
)


def _load(name: str) -> Any:
    module, attr = _LAZY[name].split(":")
    obj = getattr(importlib.import_module(module), attr)
    if isinstance(obj, typer.Typer):
        command: Any = typer.main.get_group(obj)
    else:
        holder = typer.Typer(add_completion=False)
        holder.command()(obj)
        command = typer.main.get_command(holder)
    command.name = name  # the help lists a command by its own name
    return command


class _LazyGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = set(super().list_commands(ctx)) | set(_LAZY)
        return [n for n in _ORDER if n in names] + sorted(names - set(_ORDER))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _LAZY and cmd_name not in self.commands:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=_LazyGroup,
    name="shareguard",
    help="Find personal data in files before they leave, and decide whether they may.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_ERROR)


@app.command()
def scan(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files or folders to scan (folders recursively); - for stdin"),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table for people, json or sarif")
    ] = OutputFormat.table,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show found values unmasked (on your terminal only)")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Files scanned in parallel")] = 1,
    subjects: Annotated[
        Path | None,
        typer.Option(
            "--subjects",
            help="Write the registered people found (dataset, key, matched fields) to this CSV",
        ),
    ] = None,
) -> None:
    """Scan files for personal data.

    Exit status: 0 nothing found; 1 personal data or an uninspectable part found; 2 error.
    """
    settings = get_settings()
    logs.configure(settings.log_format, logging.WARNING)
    try:
        files = expand_paths(paths)
    except ShareGuardError as exc:
        raise _fail(str(exc)) from None
    show_progress = err.is_terminal and len(files) > 1
    reports: list[FileReport] = []
    out = sys.stdout
    if fmt is OutputFormat.json:
        out.write('{"files":[')
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not show_progress,
        ) as progress:
            task = progress.add_task("scanning", total=len(files))
            # JSON streams each file out as it comes (rendered where it was
            # scanned) and keeps only its counts for the summary
            render = (
                (lambda r: json.dumps(file_to_json(r, reveal=reveal)))
                if fmt is OutputFormat.json
                else None
            )
            for report, text in iter_scanned(
                files, settings, reveal=reveal, jobs=jobs, render=render
            ):
                if text is not None:
                    out.write(("," if reports else "") + text)
                reports.append(report)
                progress.advance(task)
    except ShareGuardError as exc:
        raise _fail(str(exc)) from None
    result = summarise(tuple(reports))
    if subjects is not None:
        from shareguard.commands.datasets import write_subjects

        try:
            n = write_subjects(subjects, reports)
        except ShareGuardError as exc:
            raise _fail(str(exc)) from None
        err.print(f"{n} registered people written to {subjects}")
    if fmt is OutputFormat.json:
        out.write('],"summary":' + json.dumps(summary_json(result)) + "}\n")
    elif fmt is OutputFormat.sarif:
        sys.stdout.write(json.dumps(to_sarif(result), indent=2) + "\n")
    else:
        print_table(result, Console())
    raise typer.Exit(EXIT_FOUND if result.flagged else EXIT_CLEAN)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the web portal and the HTTP API (POST /v1/scan, /v1/check, GET /healthz)."""
    import uvicorn

    from shareguard.web.app import create_app
    from shareguard.web.auth import FIRST_ADMIN, create_first_admin

    settings = get_settings()
    logs.configure(settings.log_format)
    bind_host, bind_port = host or settings.host, port or settings.port
    try:
        web_app = create_app(settings)
        password = create_first_admin(web_app.state.portal.users)
    except ShareGuardError as exc:
        raise _fail(str(exc)) from None
    err.print(f"ShareGuard {__version__} listening on http://{bind_host}:{bind_port}")
    if password:
        # Shown once, never logged: the admin must choose their own at first sign-in.
        err.print(
            f"First start: sign in as [bold]{FIRST_ADMIN}[/] with the one-time password "
            f"[bold]{password}[/] (you will be asked to choose your own).",
            highlight=False,
            soft_wrap=True,
        )
    # Access logs off: paths are not personal, but client addresses are.  The
    # app decides which proxies to believe (SHAREGUARD_WEB__TRUSTED_PROXIES),
    # so uvicorn must not rewrite the client address from X-Forwarded-For.
    uvicorn.run(
        web_app,
        host=bind_host,
        port=bind_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # last resort: never a traceback with data in it
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}; re-run with "
            "SHAREGUARD_DEBUG=1 for details"
        )
        if get_settings().debug:
            raise
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
