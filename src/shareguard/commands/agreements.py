"""``shareguard agreements validate | load | list | show``.

Agreements are YAML reviewed like code: ``validate`` is the check a reviewer
(or CI) runs, ``load`` stores a new version of every changed agreement, old
versions kept so that each decision names the exact text that applied.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.errors import ShareGuardError
from shareguard.policy.agreements import (
    load_agreement_files,
    load_policy,
    validate_files,
)
from shareguard.policy.lifecycle import status_and_reminders
from shareguard.policy.yamlsource import AgreementError
from shareguard.store.agreements import AgreementStore

EXIT_OK = 0
EXIT_INVALID = 1

app = typer.Typer(
    name="agreements",
    help="Data-sharing agreements: validate, load new versions, list and show.",
    no_args_is_help=True,
)
err = Console(stderr=True)


Files = Annotated[list[Path], typer.Argument(help="Agreement YAML files")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table or json")]


def _store() -> AgreementStore:
    return AgreementStore(open_engine(get_settings(), migrate=True))


@app.command()
def validate(
    files: Files,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Also validate this global policy file")
    ] = None,
) -> None:
    """Check agreement files; print every problem as file:line:column: message.

    Exit status: 0 valid; 1 problems found.
    """
    problems = validate_files(files)
    if policy is not None:
        try:
            load_policy(policy)
        except AgreementError as exc:
            problems += exc.problems
    for p in problems:
        typer.echo(str(p))
    if problems:
        err.print(f"{len(problems)} problem(s)", style="bold red")
        raise typer.Exit(EXIT_INVALID)
    err.print(f"{len(files)} file(s) valid", style="green")


@app.command()
def load(
    files: Files,
    by: Annotated[str | None, typer.Option("--by", help="Who is loading (default: you)")] = None,
) -> None:
    """Validate, then store a new version of each agreement whose text changed.

    Exit status: 0 loaded; 1 problems found (nothing loaded); 2 error.
    """
    try:
        loaded = load_agreement_files(files)
    except AgreementError as exc:
        for p in exc.problems:
            typer.echo(str(p))
        err.print(f"{len(exc.problems)} problem(s); nothing loaded", style="bold red")
        raise typer.Exit(EXIT_INVALID) from None
    who = by or getpass.getuser()
    try:
        store = _store()
        for item in loaded:
            a = item.agreement
            before = store.latest(a.id)
            version = store.add_version(a.id, item.source_text, a.model_dump(mode="json"), who)
            state = "unchanged" if before is not None and before.version == version else "loaded"
            typer.echo(f"{a.id}: version {version} {state}")
    except ShareGuardError as exc:
        raise fail(str(exc)) from None


@app.command("list")
def list_(fmt: FormatOption = Format.table) -> None:
    """The latest version of every stored agreement."""
    try:
        store = _store()
        loaded_at = {i: at for i, _, at in store.list()}
        rows = store.all_latest()
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    today = datetime.now(UTC).date()
    items = [
        {
            "id": agreement_id,
            "version": version,
            "title": parsed.get("title"),
            "with": (parsed.get("parties") or {}).get("them"),
            "valid_from": parsed.get("valid_from"),
            "valid_until": parsed.get("valid_until"),
            "status": status_and_reminders(parsed, today)[0],
            "loaded_at": str(loaded_at.get(agreement_id, "")),
        }
        for agreement_id, version, parsed in rows
    ]
    if fmt is Format.json:
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    table = Table(title="Agreements", title_justify="left")
    columns = ("id", "version", "title", "with", "valid_until", "status")
    for column in columns:
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(*(str(item[c] or "") for c in columns))
    Console().print(table)


@app.command()
def show(
    agreement_id: Annotated[str, typer.Argument(metavar="ID", help="Agreement id, e.g. DSA-17")],
    version: Annotated[int | None, typer.Option("--version", "-v", help="Default: latest")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """One agreement: its fields and the text as loaded."""
    try:
        store = _store()
        stored = store.latest(agreement_id) if version is None else store.get(agreement_id, version)
        versions = [s.version for s in store.versions(agreement_id)] if stored else []
    except ShareGuardError as exc:
        raise fail(str(exc)) from None
    if stored is None:
        which = f"version {version} of " if version is not None else ""
        raise fail(f"no {which}agreement {agreement_id}; see `shareguard agreements list`")
    data = {
        "id": stored.agreement_id,
        "version": stored.version,
        "versions": versions,
        "loaded_by": stored.loaded_by,
        "loaded_at": str(stored.loaded_at),
        "source_sha256": stored.source_sha256,
        "status": status_and_reminders(stored.parsed, datetime.now(UTC).date())[0],
        "agreement": stored.parsed,
        "source_text": stored.source_text,
    }
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    console = Console()
    console.print(
        f"[bold]{stored.agreement_id}[/] version {stored.version} "
        f"(of {', '.join(map(str, versions))}), {data['status']}, "
        f"loaded by {stored.loaded_by} at {data['loaded_at']}",
        highlight=False,
    )
    console.print(stored.source_text, markup=False, highlight=False)
