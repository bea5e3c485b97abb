"""The schema of case files: what a key may hold, its default, and the checks on it.

Every mistake raises :class:`hjb.errors.InputError` naming the dotted key.
Kinds take the defaults and choice lists of their [solve] keys from the solver
(its signature defaults and registries), so each is stated once.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..errors import InputError, did_you_mean
from ..points import components


@dataclass(frozen=True)
class Key:
    """One allowed case key: its type, whether it is required, its default and a check.

    ``check(value)`` returns an error message or None.  ``sweep`` marks a key
    whose value may also be a list, one run per entry.
    """

    type: Any
    required: bool = False
    default: Any = None
    check: Optional[Callable[[Any], Optional[str]]] = None
    sweep: bool = False


def positive(v):
    return None if v > 0 else f"must be positive, got {v:g}"


def non_negative(v):
    return None if v >= 0 else f"must be non-negative, got {v:g}"


def one_of(*choices):
    def check(v):
        return None if v in choices else f"must be one of {', '.join(choices)}, got '{v}'{did_you_mean(v, choices)}"
    return check


def at_least(n):
    def check(v):
        return None if v >= n else f"must be at least {n}, got {v}"
    return check


def in_unit_interval(v):
    """A Courant number of an explicit step: in (0, 1]."""
    return None if 0 < v <= 1 else f"must lie in (0, 1], got {v:g}"


_TYPE_NAMES = {float: "a number", int: "an integer", str: "a string", bool: "true or false",
               list: "a list", dict: "a table"}


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_ok(value, typ) -> bool:
    if typ is float:
        return is_number(value)
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if typ is list:
        return isinstance(value, list)
    return isinstance(value, typ)


def check_value(key: str, value, spec: Key):
    """Type- and range-check one value, or each entry of a sweep list."""
    is_sweep = spec.sweep and isinstance(value, list) and spec.type is not list
    if is_sweep and not value:
        raise InputError(key, "a sweep list must not be empty")
    values = value if is_sweep else [value]
    if is_sweep and len({repr(v) for v in values}) != len(values):
        raise InputError(key, f"a sweep list must not repeat a value, got {value!r}")
    for v in values:
        if not _type_ok(v, spec.type):
            expected = _TYPE_NAMES.get(spec.type, spec.type)
            raise InputError(key, f"expected {expected}{' or a list of them' if spec.sweep else ''}, got {v!r}")
        if spec.type is float and not math.isfinite(v):
            raise InputError(key, f"must be a finite number, got {v!r}")
        if spec.check is not None:
            msg = spec.check(float(v) if spec.type is float else v)
            if msg:
                raise InputError(key, msg)
    converted = [float(v) if spec.type is float else v for v in values]
    return converted if is_sweep else converted[0]


def check_table(prefix: str, table: dict, schema: dict) -> dict:
    """Check a table against ``{name: Key}``; fill defaults; reject unknown keys."""
    if not isinstance(table, dict):
        raise InputError(prefix, f"expected a table, got {table!r}")
    out = {}
    for name, value in table.items():
        if name not in schema:
            raise InputError(f"{prefix}.{name}", f"unknown key{did_you_mean(name, schema)}; "
                             f"allowed: {', '.join(schema) or 'none'}")
        out[name] = check_value(f"{prefix}.{name}", value, schema[name])
    for name, spec in schema.items():
        if name not in out:
            if spec.required:
                raise InputError(f"{prefix}.{name}", "missing required key")
            if spec.default is not None:
                out[name] = copy.deepcopy(spec.default)
    return out


def _controls(v):
    if len(v) != 2 or not all(is_number(c) and math.isfinite(c) for c in v):
        return f"must be [u_min, u_max] (two finite numbers), got {v!r}"
    return None if v[0] <= v[1] else f"u_min = {v[0]:g} exceeds u_max = {v[1]:g}"


#: [model] of the two-scale kinds.
MODEL = {
    "dim": Key(int, default=1, check=at_least(1)),
    "gamma": Key(float, required=True, check=positive),
    "controls": Key(list, default=[0.0, 1.0], check=_controls),
    "loss": Key(dict, required=True),
}
#: [model] of the kinds that need a loss only (no coupling gamma, no controls).
MODEL_NO_GAMMA = {
    "dim": Key(int, default=1, check=at_least(1)),
    "loss": Key(dict, required=True),
}

_number_or_list = (int, float, list)
AXIS = {"lower": Key(_number_or_list, required=True), "upper": Key(_number_or_list, required=True),
        "points": Key(_number_or_list, required=True)}

TOP = {"kind": Key(str, required=True), "title": Key(str, default=""), "model": Key(dict),
       "grid": Key(dict), "solve": Key(dict, default={}), "output": Key(dict, default={}),
       "ci": Key(dict, default={})}

#: Grid dimension cap: beyond it a dimension is refused before anything is built.
MAX_DIM = 3


def finite_numbers(key: str, value) -> None:
    """Loss parameters are numbers, lists of numbers or strings; numbers are finite."""
    if isinstance(value, dict):
        raise InputError(key, f"expected a number or a list, got a table {value!r}")
    if isinstance(value, list):
        for v in value:
            finite_numbers(key, v)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(key, f"must be a finite number, got {value!r}")


def axis_entry(key: str, value, dim: int, what: str, integer: bool) -> list:
    """One of lower/upper/points: a number in d = 1, a list of d numbers in d >= 2."""
    entries = components(value, dim, key)
    for v in entries:
        if integer:
            if not (isinstance(v, int) and not isinstance(v, bool)):
                raise InputError(key, f"expected integer point counts, got {v!r}")
            if v < 3:
                raise InputError(key, f"needs at least 3 points per axis, got {v}")
        elif not (is_number(v) and math.isfinite(v)):
            raise InputError(key, f"expected finite {what}, got {v!r}")
    return entries


def points_values(key: str, points, dim: int) -> Optional[list]:
    """The point counts of a refinement sweep, or None for a single grid.

    A sweep is a list of counts in d = 1 and a list of d-lists in d >= 2."""
    nested = isinstance(points, list) and any(isinstance(p, list) for p in points)
    if dim == 1 and isinstance(points, list) and not nested:
        values = points
    elif dim > 1 and nested:
        values = points
    else:
        return None
    if not values:
        raise InputError(key, "a sweep list must not be empty")
    if len({repr(v) for v in values}) != len(values):
        raise InputError(key, f"a sweep list must not repeat a value, got {points!r}")
    for v in values:
        axis_entry(key, v, dim, "point counts", integer=True)
    return values


def check_grid_block(name: str, block: dict, dim: int) -> dict:
    key = f"grid.{name}"
    block = check_table(key, block, AXIS)
    lower = axis_entry(f"{key}.lower", block["lower"], dim, "bounds", integer=False)
    upper = axis_entry(f"{key}.upper", block["upper"], dim, "bounds", integer=False)
    for k, (lo, hi) in enumerate(zip(lower, upper)):
        if not hi > lo:
            axis = "" if dim == 1 else f" (axis {k + 1})"
            raise InputError(key, f"upper = {hi:g} must exceed lower = {lo:g}{axis}")
    if points_values(f"{key}.points", block["points"], dim) is None:
        axis_entry(f"{key}.points", block["points"], dim, "point counts", integer=True)
    return block
