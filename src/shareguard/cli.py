"""The ``shareguard`` command.  Thin: parses arguments, calls the pipeline,
renders the result."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shareguard import __version__, logs
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError
from shareguard.model import FileReport
from shareguard.pipeline import expand_paths, iter_reports
from shareguard.render import (
    file_to_json,
    print_table,
    summarise,
    to_json,
    to_sarif,
    without_findings,
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
}
_ORDER = ("scan", "serve", "check", "version", "agreements", "approvals", "audit", "db")


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
            for report in iter_reports(files, settings, reveal=reveal, jobs=jobs):
                if fmt is OutputFormat.json:
                    # stream each file's findings out, keep only counts for the summary
                    out.write(
                        ("," if reports else "") + json.dumps(file_to_json(report, reveal=reveal))
                    )
                    report = without_findings(report)
                reports.append(report)
                progress.advance(task)
    except ShareGuardError as exc:
        raise _fail(str(exc)) from None
    result = summarise(tuple(reports))
    if fmt is OutputFormat.json:
        out.write('],"summary":' + json.dumps(to_json(result)["summary"]) + "}\n")
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
    """Run the HTTP service (POST /v1/scan, GET /healthz)."""
    import uvicorn

    from shareguard.web.app import create_app

    settings = get_settings()
    logs.configure(settings.log_format)
    bind_host, bind_port = host or settings.host, port or settings.port
    err.print(f"ShareGuard {__version__} listening on http://{bind_host}:{bind_port}")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_config=None)


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
