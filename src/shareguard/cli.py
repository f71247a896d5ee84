"""The ``shareguard`` command.  Thin: parses arguments, calls the pipeline,
renders the result."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shareguard import __version__, logs
from shareguard.commands import agreements as agreements_commands
from shareguard.commands import approvals as approvals_commands
from shareguard.commands import audit as audit_commands
from shareguard.commands import db as db_commands
from shareguard.commands.check import check as check_command
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

app = typer.Typer(
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


app.command()(check_command)
app.add_typer(agreements_commands.app, name="agreements")
app.add_typer(approvals_commands.app, name="approvals")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(db_commands.app, name="db")


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
