"""YAML in, pydantic models out, and every problem pinned to a line and column.

Agreements are reviewed like code, so an error that says only "invalid" is no
use: each :class:`Problem` names the file, the 1-based line and column of the
offending key or value, and what is wrong.  ruamel.yaml's round-trip loader
keeps the position of every key and item; pydantic's error locations are paths
into the same data, so one walks the other.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from shareguard.errors import ShareGuardError

# An agreement is a page of YAML; anything far bigger is a mistake or an attack
# (alias expansion, "billion laughs").
MAX_SOURCE_CHARS = 1_000_000
MAX_NODES = 50_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One error in one file.  ``line`` and ``column`` are 1-based; 0 when the
    problem concerns the file as a whole (unreadable, empty)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{self.file}: {self.message}"


class AgreementError(ShareGuardError):
    """Agreement or policy files that cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _TextTimestamps(RoundTripConstructor):
    """Leave ``2025-02-30`` as text: ruamel would raise a bare ValueError with
    no position, while the model's date check reports it at its line."""


_TextTimestamps.add_constructor(
    "tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextTimestamps
    yaml.allow_duplicate_keys = False
    return yaml


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value and where it starts (0-based, as ruamel counts)."""

    value: Any
    line: int
    column: int


def read_documents(text: str, file: str) -> list[Node]:
    """Every non-empty YAML document in ``text``, raising AgreementError on a
    syntax error (with its position) or an oversized document."""
    if len(text) > MAX_SOURCE_CHARS:
        raise AgreementError([Problem(file, 0, 0, f"larger than {MAX_SOURCE_CHARS} characters")])
    try:
        docs = list(_yaml().load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(x) for x in (exc.problem or exc.context, exc.context) if x)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise AgreementError([Problem(file, line, col, f"YAML syntax: {what}")]) from None
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        # Unmarked loader failures (nesting too deep, odd scalars) still belong
        # to the file; the message is the exception type, never the content.
        raise AgreementError(
            [Problem(file, 0, 0, f"YAML cannot be read ({type(exc).__name__})")]
        ) from None
    nodes = []
    for doc in docs:
        if doc is None:
            continue
        _check_size(doc, file)
        line, col = _start(doc)
        nodes.append(Node(doc, line, col))
    return nodes


def _start(value: Any) -> tuple[int, int]:
    lc = getattr(value, "lc", None)
    if lc is not None and lc.line is not None:
        return int(lc.line), int(lc.col)
    return 0, 0


def _check_size(doc: Any, file: str) -> None:
    """Count nodes as the validator would see them (aliases expanded) and stop
    at a bound, so recursive or exponential aliases are an error, not a hang."""
    budget = MAX_NODES
    stack = [doc]
    while stack:
        value = stack.pop()
        budget -= 1
        if budget < 0:
            line, col = _start(doc)
            raise AgreementError(
                [Problem(file, line + 1, col + 1, f"more than {MAX_NODES} values (aliases?)")]
            )
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def item_nodes(node: Node) -> Iterator[Node]:
    """The items of a YAML sequence, each with its own position."""
    seq = node.value
    for i, item in enumerate(seq):
        line, col = seq.lc.item(i) if isinstance(seq, CommentedSeq) else (node.line, node.column)
        yield Node(item, line, col)


# ----------------------------------------------------------------------------- validation

M = TypeVar("M", bound=BaseModel)


def validate_node(
    model: type[M],
    node: Node,
    file: str,
    extra_checks: Callable[[M], list[tuple[tuple[str | int, ...], str]]] | None = None,
) -> tuple[M | None, list[Problem]]:
    """Validate one YAML mapping against ``model``; every pydantic error becomes
    a Problem at the key or value it is about."""
    if not isinstance(node.value, dict):
        kind = type(node.value).__name__
        return None, [
            Problem(
                file, node.line + 1, node.column + 1, f"expected a mapping, not {kind}"
            )
        ]
    try:
        result = model.model_validate(node.value)
    except ValidationError as exc:
        return None, [_problem(model, node, file, err) for err in exc.errors()]
    problems = [
        _at(node, file, loc, message)
        for loc, message in (extra_checks(result) if extra_checks else [])
    ]
    return (None if problems else result), problems


def _problem(model: type[BaseModel], node: Node, file: str, err: ErrorDetails) -> Problem:
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("index"), int):
        loc = (*loc, ctx["index"])
    path = _data_path(node.value, loc)
    names = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        message = f"unknown field '{key}'"
        siblings = _fields_at(model, path[:-1])
        close = difflib.get_close_matches(key, siblings, n=1, cutoff=0.6)
        if close:
            message += f": did you mean '{close[0]}'?"
        return _at(node, file, path, message, on_key=True)
    if kind == "missing":
        return _at(node, file, path[:-1], f"missing required field '{names}'")
    message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in {"enum", "literal_error"} and isinstance(err.get("input"), str):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = difflib.get_close_matches(err["input"], options, n=1, cutoff=0.6)
        if close:
            message += f": did you mean '{close[0]}'?"
    return _at(node, file, path, f"{names}: {message}" if names else message)


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Keep the parts of a pydantic location that are real keys or indexes in
    the data (dropping union/validator tags such as ``function-after[...]``);
    a last part not in the data (a missing field) is kept as is."""
    path: list[str | int] = []
    value = data
    for i, part in enumerate(loc):
        if (isinstance(value, dict) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        ):
            path.append(part)
            value = value[part]
        elif i == len(loc) - 1 and isinstance(value, dict) and isinstance(part, str | int):
            path.append(part)
    return tuple(path)


def _fields_at(model: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = field.annotation
    return list(getattr(current, "model_fields", {}))


def _at(
    node: Node, file: str, path: tuple[str | int, ...], message: str, *, on_key: bool = False
) -> Problem:
    """Position of the value at ``path`` (of its key if ``on_key``), falling
    back to the nearest enclosing position known."""
    line, col = node.line, node.column
    value: Any = node.value
    for i, part in enumerate(path):
        if isinstance(value, CommentedMap) and part in value:
            key_pos, value_pos = value.lc.key(part), value.lc.value(part)
            use_key = on_key and i == len(path) - 1
            line, col = key_pos if use_key or value_pos is None else value_pos
        elif isinstance(value, CommentedSeq) and isinstance(part, int) and part < len(value):
            line, col = value.lc.item(part)
        else:
            break
        value = value[part]
    return Problem(file, line + 1, col + 1, message)
