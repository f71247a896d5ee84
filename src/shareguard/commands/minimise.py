"""``shareguard minimise``: make the file a recipient is entitled to."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from shareguard import logs
from shareguard.commands.common import Format, fail, open_engine
from shareguard.config import Settings, get_settings
from shareguard.errors import InputError, ShareGuardError
from shareguard.pipeline import make_scanner, scan_bytes
from shareguard.policy.agreements import Agreement, AgreementError
from shareguard.transform import (
    MinimiseOptions,
    k_anonymity_bytes,
    minimise_bytes,
    profile_options_for,
    scan_summary,
)
from shareguard.transform.options import DEFAULT_AGE_BANDS, DEFAULT_SERVICE_BANDS

EXIT_DONE = 0
EXIT_NOT_CLEAN = 1

out = Console(soft_wrap=True)


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _edges(text: str | None, default: tuple[int, ...], what: str) -> tuple[int, ...]:
    if not text:
        return default
    try:
        edges = tuple(int(p) for p in _list(text))
    except ValueError:
        raise InputError(f"{what} must be whole numbers separated by commas") from None
    if not edges or list(edges) != sorted(set(edges)):
        raise InputError(f"{what} must be increasing, e.g. 16,25,35,45,55,65")
    return edges


def _key(path: Path | None) -> bytes | None:
    """Key-file bytes: 64+ hex digits, or 32+ raw bytes."""
    if path is None:
        return None
    raw = path.read_bytes()
    try:
        key = bytes.fromhex(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = raw
    if len(key) < 32:
        raise InputError(f"{path}: a key file must hold at least 32 bytes (64 hex digits)")
    return key


def _agreement(settings: Settings, agreement_id: str) -> Agreement:
    from shareguard.policy.loading import agreement_versions

    try:
        versions = agreement_versions(open_engine(settings))
    except AgreementError as exc:
        raise InputError(str(exc)) from None
    for v in versions:
        if v.agreement.id == agreement_id:
            return v.agreement
    raise InputError(f"no agreement {agreement_id!r} in the store (`shareguard agreements list`)")


def _write_private(path: Path, content: bytes) -> None:
    """The re-identification table: readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.chmod(path, 0o600)


def _summary_line(s: dict[str, Any]) -> str:
    found = ", ".join(f"{k} {n}" for k, n in s["entities"].items()) or "no entities"
    special = ", ".join(s["special_category"]) or "none"
    return f"{s['data_subjects']} people; {found}; special categories: {special}"


def _k_report(
    data: bytes, file: Path, options: MinimiseOptions, settings: Settings, fmt: Format
) -> None:
    reports = k_anonymity_bytes(data, file.name, options, settings)
    if fmt is Format.json:
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
    else:
        for r in reports:
            verdict = "[green]k-anonymous[/]" if r.satisfied else "[bold red]NOT k-anonymous[/]"
            out.print(f"[bold]{escape(r.sheet)}[/]: {r.rows} rows, k = {r.k}: {verdict}")
            out.print(f"  quasi-identifiers: {escape(', '.join(r.quasi_identifiers))}")
            o = r.overall
            out.print(
                f"  smallest class {o.smallest}; {o.classes} classes, {o.classes_under_k} "
                f"under k holding {o.rows_under_k} rows"
            )
            if r.drivers:
                out.print(f"  driven by (drop one): {escape(', '.join(r.drivers))}")
            if r.to_reach_k:
                out.print(f"  drop or generalise to reach k: {escape(', '.join(r.to_reach_k))}")
    ok = all(r.satisfied for r in reports)
    raise typer.Exit(EXIT_DONE if ok else EXIT_NOT_CLEAN)


def minimise(
    file: Annotated[Path, typer.Argument(help="The staff list or document to minimise")],
    to_profile: Annotated[
        bool, typer.Option("--to-profile", help="Aggregate into a workforce profile")
    ] = False,
    redact: Annotated[
        bool, typer.Option("--redact", help="Replace every detected value by its type tag")
    ] = False,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="Replace identifiers by a keyed token")
    ] = False,
    generalise: Annotated[
        bool,
        typer.Option("--generalise", help="Band ages, salaries, postcodes, dates (combinable)"),
    ] = False,
    k_anonymity: Annotated[
        bool, typer.Option("--k-anonymity", help="Report k-anonymity; writes nothing")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the result")
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Profile: group by these columns, e.g. grade,department")
    ] = None,
    sum_: Annotated[
        str | None, typer.Option("--sum", help="Profile: total these columns (e.g. fte)")
    ] = None,
    mean: Annotated[
        str | None, typer.Option(help="Profile: average these columns (e.g. salary)")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Profile: 'tupe' = function x grade, pay/age/service")
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(min=2, help="Profile: smallest count shown (default 5; 10 if special)"),
    ] = None,
    round_to: Annotated[
        int | None, typer.Option("--round-to", min=2, help="Profile: round counts to this base")
    ] = None,
    agreement: Annotated[
        str | None,
        typer.Option(help="Agreement id: its dimensions, min_cell_size and min_k apply"),
    ] = None,
    age_bands: Annotated[
        str | None, typer.Option(help="Lower edges of age bands (default 16,25,35,45,55,65)")
    ] = None,
    service_bands: Annotated[
        str | None, typer.Option(help="Lower edges of service bands in years (1,2,5,10,20)")
    ] = None,
    salary_band: Annotated[int, typer.Option(min=1, help="Width of salary bands in £")] = 5000,
    postcode: Annotated[
        str, typer.Option(help="Postcodes to: district (outward code), sector or area")
    ] = "district",
    dates: Annotated[str, typer.Option(help="Exact dates to: month or year")] = "month",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date ages are worked out at (YYYY-MM-DD)")
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="Pseudonym key (64+ hex digits); default: derived from the secret"),
    ] = None,
    keep_key: Annotated[
        Path | None,
        typer.Option(
            "--keep-key",
            help="Also write the pseudonym -> identifier table here.  It re-identifies "
            "everyone: keep it apart from the output and protect it like the source.",
        ),
    ] = None,
    quasi: Annotated[
        str | None, typer.Option(help="k-anonymity: quasi-identifier columns (default: auto)")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help="k-anonymity: wanted k (5)")] = None,
    require_clean: Annotated[
        bool,
        typer.Option(
            "--require-clean",
            help="Exit 1 and write nothing if direct identifiers remain after the transform",
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Minimise a file for its recipient, then re-scan the result.

    --to-profile: counts (with --sum/--mean) by --by columns, small cells and
    the figures that would reveal them hidden; -o ending .csv or .xlsx.
    --redact: CSV, TSV, XLSX, DOCX, PDF or text out as in, values as [UK_NINO] etc.
    --pseudonymise and/or --generalise: a table with identifiers replaced by a
    keyed token and/or ages, salaries, postcodes and dates banded.
    --k-anonymity: how identifiable the rows are over their quasi-identifiers.

    Exit status: 0 done; 1 --require-clean and direct identifiers remain, or the
    table is not k-anonymous; 2 error.
    """
    settings = get_settings()
    logs.configure(settings.log_format, logging.WARNING)
    chosen = [to_profile, redact, pseudonymise or generalise, k_anonymity]
    if sum(chosen) != 1:
        raise fail(
            "choose one of --to-profile, --redact, --pseudonymise/--generalise, --k-anonymity"
        )
    try:
        data = file.read_bytes()
        terms = _agreement(settings, agreement) if agreement else None
        options = MinimiseOptions(
            by=_list(by),
            sum=_list(sum_),
            mean=_list(mean),
            threshold=threshold,
            round_to=round_to,
            preset=preset,
            age_bands=_edges(age_bands, DEFAULT_AGE_BANDS, "--age-bands"),
            service_bands=_edges(service_bands, DEFAULT_SERVICE_BANDS, "--service-bands"),
            salary_band=salary_band,
            postcode=postcode,
            dates=dates,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            key=_key(key_file),
            keep_key=keep_key is not None,
            quasi=_list(quasi),
            k=k or (terms.min_k if terms and terms.min_k else 5),
        )
        if postcode not in ("district", "sector", "area") or dates not in ("month", "year"):
            raise InputError("--postcode is district, sector or area; --dates is month or year")
        if k_anonymity:
            _k_report(data, file, options, settings, fmt)
        if output is None:
            raise InputError("say where to write the result with -o OUT")
        if output.resolve() == file.resolve():
            raise InputError(f"{output}: would overwrite the input; choose another name")
        notes: list[str] = []
        if to_profile:
            mode = "profile"
            options, notes = _profile_terms(options, terms, agreement, output)
        elif redact:
            mode = "redact"
        else:
            steps = (("pseudonymise", pseudonymise), ("generalise", generalise))
            mode = "+".join(m for m, on in steps if on)
        before = scan_summary(scan_bytes(data, file.name, settings, make_scanner(settings)))
        result = minimise_bytes(data, file.name, mode, options, settings)
    except (ShareGuardError, OSError, ValueError) as exc:
        raise fail(f"{file}: {exc}" if str(file) not in str(exc) else str(exc)) from None
    after = result.remaining
    dirty = require_clean and bool(after["direct_identifiers"])
    if not dirty:
        output.write_bytes(result.content)
        if keep_key is not None and result.reidentification is not None:
            _write_private(keep_key, result.reidentification)
    notes = [*notes, *result.notes]
    if fmt is Format.json:
        doc = {
            "input": str(file),
            "output": None if dirty else str(output),
            "mode": mode,
            "media_type": result.media_type,
            "suppressed_cells": result.suppressed_cells,
            "notes": notes,
            "before": before,
            "after": after,
            "key_file": str(keep_key) if keep_key and result.reidentification else None,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        where = "nothing written" if dirty else f"wrote {escape(str(output))}"
        out.print(f"[bold]{mode}[/]: {where}")
        for n in notes:
            out.print(f"  - {escape(n)}")
        out.print(f"  before: {escape(_summary_line(before))}")
        out.print(f"  after:  {escape(_summary_line(after))}")
        if after["direct_identifiers"]:
            left = ", ".join(f"{k} {n}" for k, n in after["direct_identifiers"].items())
            out.print(f"  [bold red]direct identifiers remain:[/] {left}")
        if keep_key is not None and result.reidentification is not None and not dirty:
            out.print(
                f"  re-identification table: {escape(str(keep_key))} (keep it apart; protect it)"
            )
    raise typer.Exit(EXIT_NOT_CLEAN if dirty else EXIT_DONE)


def _profile_terms(
    options: MinimiseOptions, terms: Agreement | None, agreement_id: str | None, output: Path
) -> tuple[MinimiseOptions, list[str]]:
    """The profile's options: the agreement's allowance, then the command line
    (which may narrow it but not lower its cell size); format from -o."""
    notes: list[str] = []
    ext = output.suffix.lower()
    if ext not in (".csv", ".xlsx"):
        raise InputError(f"{output}: a profile is written as .csv or .xlsx")
    options = replace(options, output_format=ext[1:])
    if terms is None:
        if not options.by and not options.preset:
            raise InputError("a profile needs --by COLUMNS, --preset tupe or --agreement ID")
        return options, notes
    allowed = profile_options_for(terms)
    if allowed is None:
        raise InputError(
            f"agreement {agreement_id} allows more than aggregates; give --by for a profile"
        )
    floor = allowed.threshold or 10
    cell = max(options.threshold or floor, floor)
    if options.threshold is not None and options.threshold < floor:
        notes.append(f"agreement {agreement_id} sets the smallest cell at {floor}")
    if options.by or options.preset:
        return replace(options, threshold=cell), notes
    return replace(allowed, threshold=cell, round_to=options.round_to, output_format=ext[1:]), notes
