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


#: Every number of a case file is at most this large in magnitude (hostile values such as
#: 1e308 overflow the arithmetic long before they mean anything); tighter ranges per key below.
MAX_MAGNITUDE = 1e9
MAX_INTEGER = 2**53
#: Loss parameters, grid bounds, controls and the coupling stay within this magnitude.
MAX_PARAMETER = 1e4
#: The inverse temperatures beta of the kinds that take one: Cole-Hopf and the Gibbs weights
#: exp(-beta f) are computed stably (shifted exponents) across this range.
BETA_MIN, BETA_MAX = 1e-3, 1e4
#: Grid points per axis (the memory estimate refuses most grids long before this).
MAX_POINTS = 10**7


def positive(v):
    return None if v > 0 else f"must be positive, got {v:g}"


def positive_within(lo, hi):
    """Positive (said so when it is not), and in [lo, hi] (in (0, hi] when lo is 0: the
    message then does not offer 0)."""
    inside = between(lo, hi) if lo > 0 else \
        (lambda v: None if v <= hi else f"must lie in (0, {hi:g}], got {v:g}")
    return lambda v: positive(v) or inside(v)


def between(lo, hi):
    """A number in [lo, hi] (the range in which the numerics are meaningful)."""
    def check(v):
        return None if lo <= v <= hi else f"must lie in [{lo:g}, {hi:g}], got {v:g}"
    return check


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
        if spec.type in (float, int) and abs(v) > (MAX_MAGNITUDE if spec.type is float else MAX_INTEGER):
            raise InputError(key, f"is out of range: {v!r}")
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
    if len(v) != 2 or not all(is_number(c) and math.isfinite(c) and abs(c) <= MAX_PARAMETER for c in v):
        return f"must be [u_min, u_max] (two finite numbers of magnitude at most {MAX_PARAMETER:g}), got {v!r}"
    return None if v[0] <= v[1] else f"u_min = {v[0]:g} exceeds u_max = {v[1]:g}"


#: [model] of the two-scale kinds.
MODEL = {
    "dim": Key(int, default=1, check=at_least(1)),
    "gamma": Key(float, required=True, check=positive_within(0.0, MAX_PARAMETER)),
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


def finite_numbers(key: str, value, depth: int = 0) -> None:
    """Loss parameters are numbers, flat lists of numbers or strings; numbers are finite
    and of magnitude at most MAX_PARAMETER (true/false are not numbers)."""
    if isinstance(value, dict):
        raise InputError(key, f"expected a number or a list, got a table {value!r}")
    if isinstance(value, bool):
        raise InputError(key, f"expected a number, got {str(value).lower()}")
    if isinstance(value, list):
        if depth > 0:
            raise InputError(key, "expected a number or a flat list of numbers, got nested lists")
        for v in value:
            finite_numbers(key, v, depth + 1)
    elif isinstance(value, (int, float)) and not (math.isfinite(value) and abs(value) <= MAX_PARAMETER):
        raise InputError(key, f"must be a finite number of magnitude at most {MAX_PARAMETER:g}, got {value!r}")


def axis_entry(key: str, value, dim: int, what: str, integer: bool) -> list:
    """One of lower/upper/points: a number in d = 1, a list of d numbers in d >= 2."""
    entries = components(value, dim, key)
    for v in entries:
        if integer:
            if not (isinstance(v, int) and not isinstance(v, bool)):
                raise InputError(key, f"expected integer point counts, got {v!r}")
            if v < 3:
                raise InputError(key, f"needs at least 3 points per axis, got {v}")
            if v > MAX_POINTS:
                raise InputError(key, f"at most {MAX_POINTS:,} points per axis, got {v:,}")
        elif not (is_number(v) and math.isfinite(v) and abs(v) <= MAX_PARAMETER):
            raise InputError(key, f"expected finite {what} of magnitude at most {MAX_PARAMETER:g}, got {v!r}")
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
