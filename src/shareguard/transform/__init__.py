"""Minimisation: turn a file into what its recipient is entitled to.

Four transforms, each a function of (bytes, options) -> bytes, listed in
:data:`MODES`: a workforce ``profile`` (aggregates with small-cell and
secondary suppression), a ``redact``-ed copy, a ``pseudonymise``-d copy and a
``generalise``-d copy; pseudonymise and generalise may be chained
(``"pseudonymise+generalise"``).  Every output is scanned again and the
result says what personal data remains.  :func:`k_anonymity_bytes` reports
how identifiable the rows of a table still are.

Adding a transform: write ``def _mode(data, filename, options, settings) ->
_Output`` and add it to :data:`MODES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from shareguard.config import Settings
from shareguard.errors import InputError
from shareguard.model import FileReport
from shareguard.pipeline import make_scanner, scan_bytes
from shareguard.policy.agreements import Agreement
from shareguard.transform import aggregate, io
from shareguard.transform.generalise import generalise_sheet
from shareguard.transform.kanon import KAnonymityReport, k_anonymity
from shareguard.transform.options import (
    SMALL_CELL,
    SMALL_CELL_SPECIAL,
    MinimiseOptions,
    MinimiseResult,
)
from shareguard.transform.pseudonymise import pseudonym_key, pseudonymise_sheet
from shareguard.transform.redact import redact_bytes
from shareguard.transform.roles import DIRECT_IDENTIFIERS

__all__ = [
    "MODES",
    "KAnonymityReport",
    "MinimiseOptions",
    "MinimiseResult",
    "k_anonymity_bytes",
    "minimise_bytes",
    "profile_options_for",
    "scan_summary",
]


@dataclass(slots=True)
class _Output:
    content: bytes
    media_type: str
    suffix: str  # added to the file name: staff.csv -> staff-redacted.csv
    extension: str
    suppressed_cells: int = 0
    notes: list[str] = field(default_factory=list)
    reidentification: bytes | None = None


Transform = Callable[[bytes, str, MinimiseOptions, Settings], _Output]


def scan_summary(report: FileReport) -> dict[str, Any]:
    """Counts from a scan: what personal data a file holds, never values."""
    entities: dict[str, int] = {}
    special: set[str] = set()
    for part in report.walk():
        for kind, n in part.entities.items():
            entities[kind] = entities.get(kind, 0) + n
        special.update(part.special_category)
    direct = {k: n for k, n in sorted(entities.items()) if k in DIRECT_IDENTIFIERS}
    return {
        "data_subjects": report.data_subjects,
        "entities": dict(sorted(entities.items())),
        "special_category": sorted(special),
        "direct_identifiers": direct,
        "uninspectable": report.has_uninspectable,
        "clean": not (report.has_personal_data or report.has_uninspectable),
    }


def _extension(filename: str, media_type: str) -> str:
    ext = PurePath(filename).suffix.lower()
    if ext:
        return ext
    return {io.CSV: ".csv", io.TSV: ".tsv", io.DOCX: ".docx", io.TEXT: ".txt"}.get(
        media_type, ".xlsx"
    )


def _profile(data: bytes, filename: str, options: MinimiseOptions, settings: Settings) -> _Output:
    media, sheets = io.read_tables(data, filename, settings)
    threshold = options.threshold
    notes: list[str] = []
    if threshold is None:
        source = scan_bytes(data, filename, settings, make_scanner(settings))
        special = scan_summary(source)["special_category"]
        threshold = SMALL_CELL_SPECIAL if special else SMALL_CELL
        if special:
            notes.append(
                f"the source holds special-category data ({', '.join(special)}): "
                f"cells under {threshold} are hidden"
            )
    if threshold < 2:
        raise InputError("the small-cell threshold must be at least 2")
    tables, skipped = aggregate.profile_tables(sheets[0], options, threshold)
    notes += skipped
    if len(sheets) > 1:
        notes.append(f"profile made from the first sheet, {sheets[0].name!r}")
    notes += aggregate.notes_rows(tables, threshold, options.round_to)
    fmt = options.output_format or ("csv" if media in io.DELIMITED else "xlsx")
    if fmt == "csv":
        rows: list[list[object]] = [["table", "measure", "row", "column", "value"]]
        for t in tables:
            rows += aggregate.table_long(t)
        content, media_out, ext = io.write_csv(rows), io.CSV, ".csv"
    elif fmt == "xlsx":
        blocks: list[tuple[str, list[list[object]]]] = []
        for t in tables:
            for b, (name, _) in enumerate(t.blocks):
                title = t.title if b == 0 else f"{t.title} {name}"
                blocks.append((title, aggregate.table_grid(t, b)))
        notes_sheet: list[list[object]] = [["Notes"]]
        notes_sheet += [[n] for n in notes]
        blocks.append(("Notes", notes_sheet))
        content, media_out, ext = io.write_xlsx(blocks), io.XLSX, ".xlsx"
    else:
        raise InputError(f"unknown profile format {fmt!r}: use csv or xlsx")
    hidden = sum(t.hidden for t in tables)
    return _Output(content, media_out, "profile", ext, hidden, notes)


def _redact(data: bytes, filename: str, options: MinimiseOptions, settings: Settings) -> _Output:
    content, media, replaced = redact_bytes(data, filename, settings)
    note = f"{replaced} values or cells replaced by their type tag"
    return _Output(content, media, "redacted", _extension(filename, media), notes=[note])


def _tables(
    data: bytes,
    filename: str,
    options: MinimiseOptions,
    settings: Settings,
    steps: tuple[str, ...],
) -> _Output:
    """Pseudonymise and/or generalise every table, in that order (tokens are
    keyed on exact values, before generalisation coarsens them)."""
    media, sheets = io.read_tables(data, filename, settings)
    notes: list[str] = []
    key_tables: list[tuple[str, list[list[str]]]] = []
    out: list[tuple[str, Sequence[Sequence[object]]]] = []
    key = pseudonym_key(options.key or settings.secret_key_bytes())
    for sheet in sheets:
        if "pseudonymise" in steps:
            done = pseudonymise_sheet(sheet, key)
            if done.dropped:
                sheet = done.sheet
                notes.append(f"{sheet.name}: removed {', '.join(done.dropped)}; added Pseudonym")
                key_tables.append((sheet.name, done.key_rows))
                if done.without_identifier:
                    notes.append(
                        f"{sheet.name}: {done.without_identifier} rows had no identifier "
                        "and got no pseudonym"
                    )
            else:
                notes.append(f"{sheet.name}: no identifier columns found; left as it was")
        if "generalise" in steps:
            sheet, said = generalise_sheet(sheet, options)
            notes += [f"{sheet.name}: {n}" for n in said]
        out.append((sheet.name, [sheet.header, *sheet.rows] if sheet.header else sheet.rows))
    if media in io.DELIMITED and len(out) > 1:  # cannot happen: a CSV is one table
        raise InputError(f"{filename}: more than one table in a delimited file")
    delimiter = io.delimiter_of(data) if media in io.DELIMITED else ","
    content = io.table_bytes(media, out, delimiter)
    media_out = media if media in io.DELIMITED else io.XLSX
    keyfile = None
    if options.keep_key and key_tables:
        keyfile = io.write_csv([row for _, rows in key_tables for row in rows])
    suffix = "-".join(
        {"pseudonymise": "pseudonymised", "generalise": "generalised"}[s] for s in steps
    )
    ext = _extension(filename, media) if media in io.DELIMITED else ".xlsx"
    return _Output(content, media_out, suffix, ext, notes=notes, reidentification=keyfile)


def _pseudonymise(data: bytes, f: str, o: MinimiseOptions, s: Settings) -> _Output:
    return _tables(data, f, o, s, ("pseudonymise",))


def _generalise(data: bytes, f: str, o: MinimiseOptions, s: Settings) -> _Output:
    return _tables(data, f, o, s, ("generalise",))


def _pseudonymise_generalise(data: bytes, f: str, o: MinimiseOptions, s: Settings) -> _Output:
    return _tables(data, f, o, s, ("pseudonymise", "generalise"))


MODES: dict[str, Transform] = {
    "profile": _profile,
    "redact": _redact,
    "pseudonymise": _pseudonymise,
    "generalise": _generalise,
    "pseudonymise+generalise": _pseudonymise_generalise,
}


def minimise_bytes(
    data: bytes, filename: str, mode: str, options: MinimiseOptions, settings: Settings
) -> MinimiseResult:
    """Minimise one file and re-scan the result."""
    transform = MODES.get(mode)
    if transform is None:
        raise InputError(f"unknown minimisation {mode!r}; one of {', '.join(MODES)}")
    out = transform(data, filename, options, settings)
    name = f"{PurePath(filename).stem or 'output'}-{out.suffix}{out.extension}"
    rescan = scan_bytes(out.content, name, settings, make_scanner(settings))
    return MinimiseResult(
        content=out.content,
        filename=name,
        media_type=out.media_type,
        remaining=scan_summary(rescan),
        suppressed_cells=out.suppressed_cells,
        notes=tuple(out.notes),
        reidentification=out.reidentification,
    )


def k_anonymity_bytes(
    data: bytes, filename: str, options: MinimiseOptions, settings: Settings
) -> list[KAnonymityReport]:
    """A k-anonymity report for each table of a CSV or XLSX file."""
    _, sheets = io.read_tables(data, filename, settings)
    return [k_anonymity(sheet, options.k, options.quasi) for sheet in sheets]


# Agreement data items that can be dimensions of a profile, in the order a
# profile groups by them (function and grade first, as in a TUPE profile).
_DIMENSIONS = (
    "department",
    "grade",
    "pay_band",
    "job_title",
    "age_band",
    "length_of_service",
    "sex",
    "contract_type",
    "location",
)


def profile_options_for(agreement: Agreement) -> MinimiseOptions | None:
    """The profile an aggregates-only agreement allows: grouped by (at most
    two of) the dimensions its data items name, with mean salary and total
    FTE where it names them, cells under its ``min_cell_size`` hidden.  None
    when the agreement allows more than aggregates."""
    if not agreement.aggregates_only:
        return None
    items = set(agreement.data_items)
    if "age" in items:
        items.add("age_band")
    by = tuple(d for d in _DIMENSIONS if d in items)[:2]
    return MinimiseOptions(
        by=by,
        sum=("fte",) if "fte" in items else (),
        mean=("salary",) if "salary" in items else (),
        threshold=agreement.cell_size,
        lenient=True,
    )
