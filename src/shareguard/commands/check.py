"""``shareguard check``: may these files go to these recipients?"""

from __future__ import annotations

import getpass
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from shareguard import logs
from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import get_settings
from shareguard.disclosure import CheckResult, Disclosures, Outgoing
from shareguard.errors import ShareGuardError
from shareguard.pipeline import STDIN, expand_paths, make_scanner, scan_bytes
from shareguard.policy.engine import AgreementVersion
from shareguard.render import summarise

EXIT_ALLOWED = 0
EXIT_NOT_ALLOWED = 1

_STYLE = {"allow": "green", "minimise": "yellow", "hold": "bold yellow", "block": "bold red"}
_WORDS = {
    "allow": "may be sent",
    "minimise": "send a minimised version instead",
    "hold": "held for approval",
    "block": "blocked",
}


def _read(path: str) -> Outgoing:
    if path == STDIN:
        return Outgoing("stdin", sys.stdin.buffer.read())
    return Outgoing(path, Path(path).read_bytes())


def way_forward(
    result: CheckResult, versions: list[AgreementVersion], paths: list[str]
) -> list[str]:
    """The command that makes the file a recipient may have, for each
    recipient refused as it stands under an aggregates-only agreement."""
    aggregates = {v.agreement.id for v in versions if v.agreement.aggregates_only}
    refused = {r.agreement_id for r in result.decision.recipients if r.decision != "allow"}
    ids = sorted(aggregates & {a for a in refused if a is not None})
    return [
        f"shareguard minimise {shlex.quote(p)} --to-profile --agreement {a} -o profile-{a}.xlsx"
        for a in ids
        for p in paths
        if p != STDIN
    ]


def print_result(result: CheckResult, console: Console) -> None:
    overall = str(result.decision.decision)
    console.print(
        Text(f"{overall.upper()}: {_WORDS[overall]}", style=_STYLE[overall]),
        f"(record {result.record_id})",
    )
    for r in result.decision.recipients:
        decision = str(r.decision)
        line = Text(f"  {r.address}: ", style="bold")
        line.append(_WORDS[decision], style=_STYLE[decision])
        if r.agreement_id:
            line.append(f"  [agreement {r.agreement_id} v{r.agreement_version}]")
        console.print(line)
        for reason in r.reasons:
            console.print(f"    - {reason}")
    for approval in result.approval_ids:
        console.print(f"  approval reference: {approval}")


def check(
    paths: Annotated[list[str], typer.Argument(help="Files or folders to send; - for stdin")],
    to: Annotated[list[str], typer.Option("--to", help="A recipient address (repeatable)")],
    sender: Annotated[
        str | None, typer.Option("--from", help="Sender address (default: $USER@localhost)")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Scan files, decide per recipient against the data-sharing agreements,
    and record the decision.

    Exit status: 0 allowed; 1 not allowed as it stands (minimise, hold or block); 2 error.
    """
    settings = get_settings()
    logs.configure(settings.log_format, logging.WARNING)
    sender = sender or f"{getpass.getuser()}@localhost"
    try:
        files = [_read(p) for p in expand_paths(paths)]
        scanner = make_scanner(settings)
        report = summarise(tuple(scan_bytes(f.content, f.name, settings, scanner) for f in files))
        engine = open_engine(settings, migrate=True)
        disclosures = Disclosures(settings, engine)
        agreements = disclosures.agreements()
        result = disclosures.check(report, files, sender, to, agreements=agreements)
    except (ShareGuardError, OSError) as exc:
        raise fail(str(exc)) from None
    hints = way_forward(result, agreements, [f.name for f in files])
    if fmt is Format.json:
        sys.stdout.write(json.dumps({**result.as_json(), "way_forward": hints}, indent=2) + "\n")
    else:
        console = Console()
        print_result(result, console)
        for hint in hints:
            console.print(f"  way forward: {hint}", highlight=False, soft_wrap=True)
    allowed = str(result.decision.decision) == "allow"
    raise typer.Exit(EXIT_ALLOWED if allowed else EXIT_NOT_ALLOWED)
