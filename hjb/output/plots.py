"""Drawing helpers for the natural picture of a result (``hjb plot``, scripts, notebooks).

Each kind draws its own picture (``plot`` of its :class:`hjb.runner.kind.KindSpec`,
a function ``draw(fig, result)``) with these helpers: lines and images of named
datasets with labelled axes, one entry per sweep member.  Nothing here imports
matplotlib: the helpers draw on the axes they are given; :mod:`hjb.output.figures`
makes the Figure.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .result import Result

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib


def members(result: Result) -> list:
    """``[(label, Result)]``: the members of a sweep, or the result itself."""
    if result.members:
        return list(result.members.items())
    return [("", result)]


def _case(result: Result) -> dict:
    try:
        return tomllib.loads(result.case_text) if result.case_text else {}
    except tomllib.TOMLDecodeError:
        return {}


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:4]) + (", ..." if len(value) > 4 else "") + "]"
    return str(value)


def title(result: Result) -> str:
    """The case title, then the parameters that define the run (model and [solve])."""
    case = _case(result)
    model = case.get("model", {}) if isinstance(case.get("model"), dict) else {}
    loss = model.get("loss", {}) if isinstance(model.get("loss"), dict) else {}
    parts = [f"{result.kind}"]
    if "name" in loss:
        parts.append(f"loss {loss['name']}")
    for key in ("dim", "gamma", "controls"):
        if key in model:
            parts.append(f"{'γ' if key == 'gamma' else key} = {_short(model[key])}")
    solve = case.get("solve", {}) if isinstance(case.get("solve"), dict) else {}
    for key, value in solve.items():
        if not isinstance(value, (dict,)) and key not in ("x", "p"):
            parts.append(f"{'ε' if key == 'eps' else key} = {_short(value)}")
    head = case.get("title") or result.kind
    return f"{head}\n" + "\n".join(textwrap.wrap(", ".join(parts), 110))


def reduce_to(result: Result, name: str, keep: int):
    """The dataset with all but its first ``keep`` axes fixed at their middle node.

    Returns (array, axis names kept, text naming the fixed coordinates)."""
    values, dims = result[name], result.dims[name]
    index, fixed = [], []
    for k, dim in enumerate(dims):
        if k < keep:
            index.append(slice(None))
        else:
            i = values.shape[k] // 2
            index.append(i)
            where = f"{result.coords[dim][i]:.3g}" if dim in result.coords else f"#{i}"
            fixed.append(f"{dim} = {where}")
    return values[tuple(index)], dims[:keep], ", ".join(fixed)


def _axis_values(result: Result, dim: str, n: int) -> np.ndarray:
    return result.coords[dim] if dim in result.coords else np.arange(n)


def line(ax, result: Result, name: str, label: str = "", **style):
    """A 1-D dataset (after fixing its other axes) against its coordinate."""
    values, dims, fixed = reduce_to(result, name, 1)
    ax.plot(_axis_values(result, dims[0], len(values)), values, label=label or None, **style)
    ax.set_xlabel(dims[0])
    ax.set_ylabel(name + (f"  ({fixed})" if fixed else ""))


def image(fig, ax, result: Result, name: str, cmap: str = "viridis"):
    """A 2-D dataset (after fixing its other axes) as a colour map; NaN stays blank."""
    values, dims, fixed = reduce_to(result, name, 2)
    u = _axis_values(result, dims[0], values.shape[0])
    v = _axis_values(result, dims[1], values.shape[1])
    mesh = ax.pcolormesh(u, v, np.ma.masked_invalid(values).T, shading="auto", cmap=cmap)
    if dims[0] in result.coords and dims[1] in result.coords and dims[0][0] == dims[1][0]:
        ax.set_aspect("equal")          # two axes of one variable (x1, x2 or y1, y2): same scale
    ax.set_xlabel(dims[0])
    ax.set_ylabel(dims[1])
    ax.set_title(name + (f"  ({fixed})" if fixed else ""), fontsize="medium")
    fig.colorbar(mesh, ax=ax)


def legend(ax, entries):
    if any(label for label, _ in entries):
        ax.legend(fontsize="small")


def generic(fig, result: Result):
    """``value`` if present, else the first dataset: a line (1 axis) or an image."""
    entries = members(result)
    last = entries[-1][1]
    name = "value" if "value" in last.data else next((n for n, v in last.data.items() if v.ndim >= 1), None)
    ax = fig.subplots()
    if name is None:
        ax.text(0.5, 0.5, "nothing to plot", ha="center")
        return
    if last[name].ndim >= 2:
        image(fig, ax, last, name)
    else:
        for label, sub in entries:
            line(ax, sub, name, label)
        legend(ax, entries)
