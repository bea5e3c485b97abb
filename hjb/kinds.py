"""Kinds of run: each registers its [solve] schema, the grids it needs and a runner.

A runner receives the validated case data and returns a :class:`Result`; the
registry (not an if-ladder) is how ``hjb run`` reaches every solver.

Validation happens here, before anything is allocated or dispatched: the
common schema (top level, [model], [grid]), the kind's [solve] schema, the
kind's own ``check`` and the loss (built once, so an unknown or unimportable
loss fails before a sweep starts).  A list in a [solve] key marked
``sweep=True``, or a list of point counts in ``grid.<block>.points`` (a list
of lists in d >= 2), makes the case a sweep: one solve per value, run by
:mod:`hjb.sweep`.
"""
from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .case import Case, Key, at_least, check_table, positive
from .errors import InputError, did_you_mean
from .grid import Grid
from .losses import make_loss
from .model import AssumptionWarning, DeepRelaxation
from .result import Result

log = logging.getLogger("hjb")


@dataclass(frozen=True)
class KindSpec:
    name: str
    solve: dict
    runner: Callable
    grids: tuple = ()
    doc: str = ""
    model: Optional[dict] = None
    check: Optional[Callable] = None


KINDS: dict = {}


def register(name: str, solve: dict, grids: tuple = (), doc: str = "", model: Optional[dict] = None,
             check: Optional[Callable] = None):
    """Decorator: make ``runner(data, on_step) -> Result`` reachable as kind ``name``.

    ``solve`` is the schema of its [solve] table, ``grids`` the grid blocks it
    needs, ``model`` the schema of [model] (default :data:`MODEL`).  The
    optional ``check(data)`` runs after the schemas and before any solve
    (raise :class:`InputError` there for cross-key mistakes)."""
    def wrap(runner):
        KINDS[name] = KindSpec(name, solve, runner, grids, doc, model, check)
        return runner
    return wrap


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _controls(v):
    if len(v) != 2 or not all(_is_number(c) and math.isfinite(c) for c in v):
        return f"must be [u_min, u_max] (two finite numbers), got {v!r}"
    return None if v[0] <= v[1] else f"u_min = {v[0]:g} exceeds u_max = {v[1]:g}"


MODEL = {
    "dim": Key(int, default=1, check=at_least(1)),
    "gamma": Key(float, required=True, check=positive),
    "controls": Key(list, default=[0.0, 1.0], check=_controls),
    "loss": Key(dict, required=True),
}

_number_or_list = (int, float, list)
AXIS = {"lower": Key(_number_or_list, required=True), "upper": Key(_number_or_list, required=True),
        "points": Key(_number_or_list, required=True)}

TOP = {"kind": Key(str, required=True), "title": Key(str, default=""), "model": Key(dict),
       "grid": Key(dict), "solve": Key(dict, default={}), "output": Key(dict, default={}),
       "ci": Key(dict, default={})}

#: Grid dimension caps: beyond these a dimension is refused before anything is built.
MAX_DIM = 3


# ------------------------------------------------------------------ validation

def _finite_numbers(key: str, value) -> None:
    """Loss parameters are numbers, lists of numbers or strings; numbers are finite."""
    if isinstance(value, dict):
        raise InputError(key, f"expected a number or a list, got a table {value!r}")
    if isinstance(value, list):
        for v in value:
            _finite_numbers(key, v)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(key, f"must be a finite number, got {value!r}")


def _axis_entry(key: str, value, dim: int, what: str, integer: bool) -> list:
    """One of lower/upper/points: a number in d = 1, a list of d numbers in d >= 2."""
    entries = [value] if dim == 1 and not isinstance(value, list) else value
    if not isinstance(entries, list) or len(entries) != dim:
        shape = "a number" if dim == 1 else f"a list of {dim} numbers"
        raise InputError(key, f"expected {shape} (model.dim = {dim}), got {value!r}")
    for v in entries:
        if integer:
            if not (isinstance(v, int) and not isinstance(v, bool)):
                raise InputError(key, f"expected integer point counts, got {v!r}")
            if v < 3:
                raise InputError(key, f"needs at least 3 points per axis, got {v}")
        elif not (_is_number(v) and math.isfinite(v)):
            raise InputError(key, f"expected finite {what}, got {v!r}")
    return entries


def _points_values(key: str, points, dim: int) -> Optional[list]:
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
        _axis_entry(key, v, dim, "point counts", integer=True)
    return values


def _check_grid_block(name: str, block: dict, dim: int) -> dict:
    key = f"grid.{name}"
    block = check_table(key, block, AXIS)
    lower = _axis_entry(f"{key}.lower", block["lower"], dim, "bounds", integer=False)
    upper = _axis_entry(f"{key}.upper", block["upper"], dim, "bounds", integer=False)
    for k, (lo, hi) in enumerate(zip(lower, upper)):
        if not hi > lo:
            axis = "" if dim == 1 else f" (axis {k + 1})"
            raise InputError(key, f"upper = {hi:g} must exceed lower = {lo:g}{axis}")
    if _points_values(f"{key}.points", block["points"], dim) is None:
        _axis_entry(f"{key}.points", block["points"], dim, "point counts", integer=True)
    return block


def validate(case: Case) -> dict:
    """Check a case against the common schema and its kind's [solve] schema.

    Returns the validated data (defaults filled in); the loss is built once
    to check it, and any :class:`AssumptionWarning` it raised is kept in
    ``data["_warnings"]`` for :func:`run` to show once."""
    data = check_table("case", case.data, TOP)
    kind = data["kind"]
    if kind not in KINDS:
        raise InputError("kind", f"unknown kind '{kind}'{did_you_mean(kind, KINDS)}; "
                         f"available: {', '.join(sorted(KINDS))}")
    spec = KINDS[kind]
    data = copy.deepcopy(data)
    data["solve"] = check_table("solve", data["solve"], spec.solve)
    data["output"] = check_table("output", data["output"], {"file": Key(str)})
    if "model" not in data:
        raise InputError("model", "missing required table")
    data["model"] = check_table("model", data["model"], spec.model or MODEL)
    dim = data["model"].get("dim", 1)
    if isinstance(dim, int) and dim > MAX_DIM:
        raise InputError("model.dim", f"at most {MAX_DIM} is supported, got {dim}")
    loss = data["model"].get("loss")
    if isinstance(loss, dict):
        if not isinstance(loss.get("name"), str):
            raise InputError("model.loss.name", "missing required key (a shipped loss or 'package.module:function')")
        for name, value in loss.items():
            if name != "name":
                _finite_numbers(f"model.loss.{name}", value)
    grids = dict(data.get("grid") or {})
    for name in grids:
        if name not in ("x", "y"):
            raise InputError(f"grid.{name}", f"unknown grid block{did_you_mean(name, ('x', 'y'))}; allowed: x, y")
    for name in spec.grids:
        if name not in grids:
            raise InputError(f"grid.{name}", f"missing: kind '{kind}' needs grid.{name}")
        grids[name] = _check_grid_block(name, grids[name], dim)
    data["grid"] = grids
    sweep_assignments(data)                       # one sweep key at a time
    if spec.check is not None:
        # every member, so that a bad sweep value fails before the first solve
        for member in sweep_members(data) or [None]:
            spec.check(data if member is None else member.data)
    if isinstance(loss, dict):
        # Build the loss (and the model, for kinds with the standard [model]) once, so
        # that an unknown or unimportable loss fails here, before any solve starts.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssumptionWarning)
            if spec.model is None:
                build_model(data)
            else:
                make_loss(loss["name"], dim, **{k: v for k, v in loss.items() if k != "name"})
        data["_warnings"] = [str(w.message) for w in caught if issubclass(w.category, AssumptionWarning)]
    data["_checked"] = True
    return data


def build_model(data: dict) -> DeepRelaxation:
    m = data["model"]
    params = {k: v for k, v in m["loss"].items() if k != "name"}
    loss = make_loss(m["loss"]["name"], m["dim"], **params)
    with warnings.catch_warnings():
        # A validated case has shown its assumption warnings once already.
        warnings.simplefilter("ignore" if data.get("_checked") else "default", AssumptionWarning)
        return DeepRelaxation(loss, m["gamma"], tuple(m["controls"]))


def build_grid(data: dict, name: str) -> Grid:
    g = data["grid"][name]
    grid = Grid.box(g["lower"], g["upper"], g["points"], name=name)
    if grid.dim != data["model"]["dim"]:
        raise InputError(f"grid.{name}", f"has {grid.dim} axes but model.dim = {data['model']['dim']}")
    return grid


# ------------------------------------------------------------------ sweeps

def sweep_key(data: dict) -> Optional[str]:
    """The swept key(s) as one label (e.g. ``eps``, ``grid.x.points``), or None."""
    assignments = sweep_assignments(data)
    return ",".join(assignments) if assignments else None


def sweep_assignments(data: dict) -> dict:
    """``{dotted key: [values]}`` of the sweep: one [solve] key, or the grid
    point counts (several grid blocks are refined together, element by element)."""
    spec = KINDS[data["kind"]]
    solve = [k for k, v in data["solve"].items()
             if k in spec.solve and spec.solve[k].sweep and isinstance(v, list) and spec.solve[k].type is not list]
    dim = data["model"].get("dim", 1) if isinstance(data.get("model"), dict) else 1
    grid = {}
    for name in spec.grids:
        block = data["grid"].get(name)
        if isinstance(block, dict):
            values = _points_values(f"grid.{name}.points", block.get("points"), dim)
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


def sweep_members(data: dict) -> list:
    """The members of a sweep in list order (an empty list for a single solve)."""
    assignments = sweep_assignments(data)
    if not assignments:
        return []
    n = len(next(iter(assignments.values())))
    members = []
    for i in range(n):
        values = {k: v[i] for k, v in assignments.items()}
        name = ",".join(member_name(k, v) for k, v in values.items())
        members.append(Member(name, values, _assign(data, values)))
    return members


def member_case_text(case: Case, member: Member) -> str:
    """The TOML text of one member as a single run (the case with the swept values set)."""
    import tomli_w
    return tomli_w.dumps(_assign(case.data, member.values))


# ------------------------------------------------------------------ running

def run(case: Case, on_step: Optional[Callable[[int, int], None]] = None, *, workers: Optional[int] = None,
        scheduler: Optional[str] = None, partial: Optional[str] = None, resume: bool = False,
        discard: bool = False) -> Result:
    """Run a case: one solve, or one per entry of a sweep list.

    A single solve runs in this process.  A sweep runs serially (default),
    on a local Dask cluster of ``workers`` processes (``workers >= 2``) or on
    the Dask scheduler at ``scheduler``; see :func:`hjb.sweep.run_sweep` for
    ``partial``/``resume``/``discard``.  ``on_step(i, n)`` reports progress:
    time steps of a single solve, finished members of a sweep."""
    data = validate(case)
    for message in data.pop("_warnings", []):
        warnings.warn(message, AssumptionWarning, stacklevel=2)
    members = sweep_members(data)
    if not members:
        log.info("running %s", data["kind"])
        result = _timed(KINDS[data["kind"]].runner, data, on_step)
    else:
        from .sweep import run_sweep
        result = run_sweep(case, data, members, on_member=on_step, workers=workers, scheduler=scheduler,
                           partial=partial, resume=resume, discard=discard)
    result.case_text = case.text
    return result


def run_member(data: dict, on_step=None) -> Result:
    """One solve from validated data (also what a Dask worker runs)."""
    return _timed(KINDS[data["kind"]].runner, data, on_step)


def _timed(runner, data, on_step):
    from .resources import step_guard
    start = time.perf_counter()
    result = runner(data, step_guard(on_step))
    result.attrs["wall_time"] = time.perf_counter() - start
    log.info("%s solved in %.2f s", data["kind"], result.attrs["wall_time"])
    return result


# ------------------------------------------------------------------ results

def grid_result(kind: str, value: np.ndarray, grids: list, attrs: dict) -> Result:
    result = Result(kind, attrs=attrs)
    for grid in grids:
        result.coords.update(grid.coordinates())
    result.add("value", value, tuple(n for g in grids for n in g.coordinate_names))
    return result
