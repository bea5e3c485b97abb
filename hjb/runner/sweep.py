"""Sweeps: a list in a sweepable key makes one solve (a member) per value.

A list in a [solve] key marked ``sweep=True``, or a list of point counts in
``grid.<block>.points`` (a list of lists in d >= 2), makes the case a sweep.
This module expands a case into its members (each a complete case of its own,
named ``KEY=VALUE``); :mod:`hjb.runner.run` runs them.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Optional

from ..errors import InputError
from .kind import KindSpec
from .schema import points_values


def sweep_key(spec: KindSpec, data: dict) -> Optional[str]:
    """The swept key(s) as one label (e.g. ``eps``, ``grid.x.points``), or None."""
    assignments = sweep_assignments(spec, data)
    return ",".join(assignments) if assignments else None


def sweep_assignments(spec: KindSpec, data: dict) -> dict:
    """``{dotted key: [values]}`` of the sweep: one [solve] key, or the grid
    point counts (several grid blocks are refined together, element by element)."""
    solve = [k for k, v in data["solve"].items()
             if k in spec.solve and spec.solve[k].sweep and isinstance(v, list) and spec.solve[k].type is not list]
    dim = data["model"].get("dim", 1) if isinstance(data.get("model"), dict) else 1
    grid = {}
    for name in spec.grids:
        block = data["grid"].get(name)
        if isinstance(block, dict):
            values = points_values(f"grid.{name}.points", block.get("points"), dim)
            if values is not None:
                grid[f"grid.{name}.points"] = values
    if len(solve) + bool(grid) > 1:
        keys = [f"solve.{k}" for k in solve] + list(grid)
        raise InputError("solve", f"sweep one key at a time, got lists for {', '.join(keys)}")
    if solve:
        return {solve[0]: data["solve"][solve[0]]}
    lengths = {len(v) for v in grid.values()}
    if len(lengths) > 1:
        raise InputError("grid", "the point-count lists of a refinement sweep must have the same length, got "
                         + ", ".join(f"{k} = {v}" for k, v in grid.items()))
    return grid


def _path(key: str) -> tuple:
    return tuple(key.split(".")) if key.startswith("grid.") else ("solve", key)


def _format(value) -> str:
    if isinstance(value, list):
        return "x".join(_format(v) for v in value)
    return f"{value:.12g}" if isinstance(value, float) else str(value)


def member_name(key: str, value) -> str:
    """The group name of one sweep member: ``KEY=VALUE`` (``eps=0.001``)."""
    return f"{key}={_format(value)}"


@dataclass
class Member:
    """One solve of a sweep: its group name, the values it sets and its case data."""

    name: str
    values: dict
    data: dict


def _assign(data: dict, values: dict) -> dict:
    out = copy.deepcopy(data)
    for key, value in values.items():
        node = out
        *tables, last = _path(key)
        for t in tables:
            node = node.setdefault(t, {})
        node[last] = value
    return out


def sweep_members(spec: KindSpec, data: dict) -> list:
    """The members of a sweep in list order (an empty list for a single solve)."""
    assignments = sweep_assignments(spec, data)
    if not assignments:
        return []
    n = len(next(iter(assignments.values())))
    members = []
    for i in range(n):
        values = {k: v[i] for k, v in assignments.items()}
        name = ",".join(member_name(k, v) for k, v in values.items())
        members.append(Member(name, values, _assign(data, values)))
    return members
