"""Small-cell suppression: no hidden figure can be worked out from the
published ones.  Checked by solving for each hidden cell with linear algebra
(the published totals as equations), independently of the bridge test the
implementation uses."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.transform.aggregate import Dimension, build_table
from shareguard.transform.suppress import bridges, extend, primary, suppress

Cell = tuple[int, int]


def derivable(grid: list[list[float | None]]) -> set[Cell]:
    """Hidden cells (None) of an extended grid whose value the visible cells
    and the additivity of every row and column determine exactly."""
    height, width = len(grid), len(grid[0])
    unknown = [(i, j) for i in range(height) for j in range(width) if grid[i][j] is None]
    if not unknown:
        return set()
    col = {c: n for n, c in enumerate(unknown)}
    equations = []
    # row i: cells 0..width-2 add up to the total in column width-1
    for i in range(height):
        eq = np.zeros(len(unknown))
        for j in range(width):
            if (i, j) in col:
                eq[col[i, j]] = -1.0 if j == width - 1 else 1.0
        equations.append(eq)
    for j in range(width):
        eq = np.zeros(len(unknown))
        for i in range(height):
            if (i, j) in col:
                eq[col[i, j]] = -1.0 if i == height - 1 else 1.0
        equations.append(eq)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    out = set()
    for cell, n in col.items():
        unit = np.zeros(len(unknown))
        unit[n] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(cell)
    return out


def published(grid: list[list[float]], hidden: set[Cell]) -> list[list[float | None]]:
    return [
        [None if (i, j) in hidden else v for j, v in enumerate(row)] for i, row in enumerate(grid)
    ]


small_counts = st.integers(0, 40).map(lambda v: v if v % 3 else v // 10)
tables = st.integers(1, 6).flatmap(
    lambda r: st.integers(1, 6).flatmap(
        lambda c: st.lists(st.lists(small_counts, min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=300, deadline=None)
@given(tables, st.integers(2, 12))
def test_no_hidden_cell_is_derivable_from_the_totals(
    counts: list[list[int]], threshold: int
) -> None:
    grid = extend(counts)
    hidden = suppress(grid, threshold)
    assert primary(grid, threshold) <= hidden
    assert derivable(published(grid, hidden)) == set()


@settings(max_examples=200, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=14))
def test_bridges_are_the_cells_linear_algebra_can_solve(hidden: set[Cell]) -> None:
    grid: list[list[float | None]] = [[1.0] * 6 for _ in range(6)]
    for i, j in hidden:
        grid[i][j] = None
    assert bridges(hidden) == derivable(grid)


def test_a_lone_small_cell_takes_three_others_with_it() -> None:
    counts = [[20, 30, 25], [15, 2, 40], [35, 12, 18]]
    grid = extend(counts)
    hidden = suppress(grid, 5)
    assert (1, 1) in hidden
    assert len(hidden) == 4  # the cheapest rectangle: two rows, two columns
    rows = {i for i, _ in hidden}
    cols = {j for _, j in hidden}
    assert len(rows) == 2
    assert len(cols) == 2
    assert derivable(published(grid, hidden)) == set()


def test_a_small_row_total_is_hidden_and_protected() -> None:
    counts = [[1, 2], [30, 40], [25, 35]]  # the first row holds 3 people in all
    grid = extend(counts)
    hidden = suppress(grid, 5)
    assert {(0, 0), (0, 1), (0, 2)} <= hidden
    assert derivable(published(grid, hidden)) == set()


def test_a_table_without_small_cells_hides_nothing() -> None:
    assert suppress(extend([[10, 20], [30, 40]]), 5) == set()


one_way = st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=80)
two_way = st.lists(
    st.tuples(st.sampled_from("ABCDE"), st.sampled_from("xyzw")), min_size=1, max_size=120
)


@settings(max_examples=150, deadline=None)
@given(two_way, st.integers(2, 10))
def test_a_published_profile_hides_small_cells_and_reveals_none(
    people: list[tuple[str, str]], threshold: int
) -> None:
    rows = Dimension("Grade", [g for g, _ in people])
    cols = Dimension("Department", [d for _, d in people])
    table = build_table("t", [rows, cols], [], threshold, None)
    shown = table.blocks[0][1]
    for row in shown:
        for v in row:
            assert v is None or v == 0 or v >= threshold
    assert derivable(shown) == set()
    visible = [v for row in shown for v in row if v is not None]
    assert table.hidden == sum(v is None for row in shown for v in row)
    if table.hidden == 0:
        assert shown[-1][-1] == len(people)
        assert visible


@settings(max_examples=150, deadline=None)
@given(one_way, st.integers(2, 10))
def test_a_one_way_profile_cannot_be_solved_from_its_total(
    labels: list[str], threshold: int
) -> None:
    table = build_table("t", [Dimension("Band", labels)], [], threshold, None)
    column = [[row[0], row[0]] for row in table.blocks[0][1]]  # the total column repeats it
    assert derivable(column) == set()
    assert all(r[0] is None or r[0] == 0 or r[0] >= threshold for r in column)
