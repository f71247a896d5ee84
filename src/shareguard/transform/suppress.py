"""Small-cell suppression for a two-way table published with its totals.

A table of counts is handled as its *extended* grid: ``R`` rows by ``C``
columns of cells, then a row-total column, a column-total row and the grand
total in the corner.  Every row and every column of that grid is one linear
equation the reader knows ("the cells add up to the total").

Primary suppression hides every count from 1 to ``threshold - 1`` (a zero is
shown: it says nobody, and hiding zeros would hide most sparse tables).
Secondary suppression then hides further cells until no hidden cell can be
worked out from what is shown.  Seen as a bipartite graph (grid rows and grid
columns as nodes, hidden cells as edges), a hidden cell can be solved for
exactly when its edge is a *bridge*: it lies on no cycle.  Putting every
hidden cell on a cycle leaves each one free to move by +t/-t around that
cycle without changing any published total.  So the loop is: find the
bridges, close each with the cheapest rectangle (three more cells at most),
until there are none.  A hypothesis test solves for every hidden cell by
linear algebra to hold this to account.
"""

from __future__ import annotations

from collections.abc import Sequence

Cell = tuple[int, int]

# Hiding a zero to protect a neighbour is a poor trade: a reader who knows the
# cell cannot be negative can sometimes pin the neighbour again.  Zeros are
# used only when nothing else closes the cycle.
_ZERO_COST = 10**12


def extend(counts: Sequence[Sequence[float]]) -> list[list[float]]:
    """``counts`` (R x C) with its row totals, column totals and grand total."""
    rows = [[*list(r), sum(r)] for r in counts]
    width = len(rows[0]) if rows else 1
    totals = [sum(r[j] for r in rows) for j in range(width)]
    return [*rows, totals]


def primary(grid: Sequence[Sequence[float]], threshold: int) -> set[Cell]:
    """Cells (interior or totals) holding a count from 1 to ``threshold - 1``."""
    return {(i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if 0 < v < threshold}


def bridges(hidden: set[Cell]) -> set[Cell]:
    """Hidden cells that the published totals determine exactly: the bridges
    of the graph whose nodes are grid rows and columns and whose edges are the
    hidden cells (Tarjan's low-link, iteratively so deep tables cannot
    overflow the stack)."""
    adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], Cell]]] = {}
    for i, j in hidden:
        adjacency.setdefault(("r", i), []).append((("c", j), (i, j)))
        adjacency.setdefault(("c", j), []).append((("r", i), (i, j)))
    order: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    found: set[Cell] = set()
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[tuple[str, int], Cell | None, int]] = [(root, None, 0)]
        while stack:
            node, via, k = stack.pop()
            edges = adjacency[node]
            if k < len(edges):
                stack.append((node, via, k + 1))
                nxt, edge = edges[k]
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, edge, 0))
                continue
            if via is not None:  # finished ``node``: report to its parent
                parent = ("c", via[1]) if node[0] == "r" else ("r", via[0])
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.add(via)
    return found


def _cost(grid: Sequence[Sequence[float]], cells: Sequence[Cell], hidden: set[Cell]) -> float:
    total = 0.0
    for i, j in cells:
        if (i, j) not in hidden:
            v = grid[i][j]
            total += v if v > 0 else _ZERO_COST
    return total


def protect(grid: Sequence[Sequence[float]], hidden: set[Cell]) -> set[Cell]:
    """``hidden`` plus the fewest-counted further cells (a greedy choice, not
    an optimum) so that no hidden cell is determined by the visible ones."""
    hidden = set(hidden)
    height, width = len(grid), len(grid[0]) if grid else 0
    while exposed := bridges(hidden):
        r, c = min(exposed)
        best: tuple[float, Cell] | None = None
        for r2 in range(height):
            if r2 == r:
                continue
            for c2 in range(width):
                if c2 == c:
                    continue
                cost = _cost(grid, ((r, c2), (r2, c), (r2, c2)), hidden)
                if best is None or cost < best[0]:
                    best = (cost, (r2, c2))
        if best is None:  # a 1 x 1 grid cannot happen: extend() adds totals
            raise ValueError("table too small to protect")
        r2, c2 = best[1]
        hidden |= {(r, c2), (r2, c), (r2, c2)}
    return hidden


def suppress(grid: Sequence[Sequence[float]], threshold: int) -> set[Cell]:
    """Cells of an extended grid to hide: small counts and their protection."""
    return protect(grid, primary(grid, threshold))
