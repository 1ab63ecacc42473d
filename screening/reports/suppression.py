"""Small-cell suppression with complementary suppression over a hierarchy of groups.

A table of counts is given per level of the hierarchy (the whole population,
then each district, school, grade, class …): ``counts[L]`` has one row per
group at level ``L`` and one column per category (tier, band …).

*Primary* suppression hides every cell with ``0 < count < min_cell``.
*Complementary* suppression then hides further cells until no published
linear relation lets someone compute a hidden cell:

- row relations: the categories of a *complete* partition (tiers; bands plus
  "not scored") add up to the group's size, which is published;
- column relations: the counts of a category in the children of a group (the
  classes of a school) add up to the count in that group.

Whenever a relation has exactly one hidden cell, the smallest non-zero
visible cell of that relation is hidden too (a zero cell only when no
non-zero one is left), and this repeats until every relation has zero or at
least two hidden cells. This is the usual heuristic of statistical offices
(see e.g. Hundepool et al., *Statistical Disclosure Control*, Wiley 2012,
§5.3); it blocks recovery from single sums, not every possible combination of
bounds that linear programming could exploit across many relations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["suppress"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _equations(shapes: Sequence[tuple[int, int]], offsets: IntArray, parents: Sequence[IntArray | None],
               complete: bool) -> tuple[IntArray, IntArray]:
    """All relations as (equation id per entry, cell id per entry)."""
    eq_parts: list[IntArray] = []
    cell_parts: list[IntArray] = []
    next_eq = 0
    for level, (rows, cols) in enumerate(shapes):
        base = offsets[level]
        if complete and cols > 1 and rows:
            cells = base + np.arange(rows * cols, dtype=np.int64)
            eq_parts.append(next_eq + np.repeat(np.arange(rows, dtype=np.int64), cols))
            cell_parts.append(cells)
            next_eq += rows
        par = parents[level]
        if level == 0 or par is None or not rows:
            continue
        pbase = offsets[level - 1]
        prow_count = shapes[level - 1][0]
        # equation per (parent row, column): parent cell + the children cells
        child_eq = (par[:, None] * cols + np.arange(cols)[None, :]).ravel()
        child_cells = base + np.arange(rows * cols, dtype=np.int64)
        parent_eq = np.arange(prow_count * cols, dtype=np.int64)
        parent_cells = pbase + parent_eq
        eq_parts += [next_eq + child_eq, next_eq + parent_eq]
        cell_parts += [child_cells, parent_cells]
        next_eq += prow_count * cols
    if not eq_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(eq_parts), np.concatenate(cell_parts)


def suppress(counts: Sequence[npt.ArrayLike], parents: Sequence[npt.ArrayLike | None], *, min_cell: int,
             complete: bool) -> list[BoolArray]:
    """Hidden-cell masks, one per level, same shapes as ``counts``.

    Parameters
    ----------
    counts : list of 2-D integer arrays
        ``counts[L][i, j]``: students of group ``i`` at level ``L`` in category ``j``.
    parents : list
        ``parents[L][i]``: the row at level ``L-1`` that group ``i`` belongs to
        (``None`` for level 0, or where the level has no parent relation).
        The children's counts must add up to the parent's.
    min_cell : int
        Cells with ``0 < count < min_cell`` are hidden (``min_cell <= 1`` hides nothing).
    complete : bool
        True when the categories of a row add up to the (published) group size.

    Examples
    --------
    A group of 8 with 5 green, 0 yellow, 3 orange, and ``min_cell=4``: orange
    is hidden, and green too (else 8 − 0 − 5 = 3 gives it away).

    >>> suppress([np.array([[5, 0, 3]])], [None], min_cell=4, complete=True)[0].tolist()
    [[True, False, True]]
    """
    mats = [np.atleast_2d(np.asarray(c, dtype=np.int64)) for c in counts]
    shapes = [m.shape for m in mats]
    sizes = [r * c for r, c in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    flat = np.concatenate([m.ravel() for m in mats]) if mats else np.zeros(0, dtype=np.int64)
    hidden = (flat > 0) & (flat < min_cell)
    pars = [None if p is None else np.asarray(p, dtype=np.int64) for p in parents]
    eq, cells = _equations(shapes, offsets, pars, complete)
    if eq.size:
        # visible non-zero cells are preferred (smallest first), then zeros; ties by cell id
        big = int(flat.max(initial=0)) + 1
        pref = np.where(flat == 0, big, flat)
        order = np.lexsort((cells, pref[cells], eq))
        eq_s, cells_s = eq[order], cells[order]
        n_eq = int(eq.max()) + 1
        while True:
            h = hidden[cells_s]
            n_hidden = np.bincount(eq_s, weights=h, minlength=n_eq)
            open_eq = n_hidden == 1
            pick = open_eq[eq_s] & ~h
            if not pick.any():
                break
            # first visible entry of each open equation (entries are sorted by preference)
            first = np.flatnonzero(pick)
            _, idx = np.unique(eq_s[first], return_index=True)
            hidden[cells_s[first[idx]]] = True
    return [hidden[offsets[i]:offsets[i + 1]].reshape(shapes[i]) for i in range(len(mats))]
