"""What a result holds, as lines of text (``hjb show``): kind, parameters,
datasets with shapes, and the headline numbers of its kind.

A kind's headline is ``headline(result) -> lines`` of its
:class:`hjb.runner.kind.KindSpec`; :func:`describe` takes it as an argument
(:func:`hjb.runner.show.describe` passes it), and a result without one still
gets the generic description.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .result import Result

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def parameters(case_text: str) -> list:
    """The case as run, one line per table (``model: gamma = 5, ...``)."""
    try:
        case = tomllib.loads(case_text) if case_text else {}
    except tomllib.TOMLDecodeError:
        return ["(case text unreadable)"]
    lines = []
    for key in ("title",):
        if key in case:
            lines.append(f"{key}: {case[key]}")
    for table in ("model", "grid", "solve"):
        if isinstance(case.get(table), dict) and case[table]:
            lines.append(f"{table}: " + ", ".join(f"{k} = {fmt(v)}" for k, v in case[table].items()))
    return lines


def where(result: Result, name: str, index) -> str:
    parts = []
    for dim, i in zip(result.dims[name], index):
        if dim in result.coords:
            parts.append(f"{dim} = {result.coords[dim][i]:.6g}")
        else:
            parts.append(f"{dim} #{i}")
    return ", ".join(parts)


def value_extremes(result: Result) -> list:
    """Headline of a value on a grid: its minimum and maximum and where they lie."""
    if "value" not in result.data:
        return []
    v = result["value"]
    finite = np.where(np.isfinite(v), v, np.inf)
    i = np.unravel_index(int(np.argmin(finite)), v.shape)
    j = np.unravel_index(int(np.argmax(np.where(np.isfinite(v), v, -np.inf))), v.shape)
    return [f"min value {v[i]:.6g} at {where(result, 'value', i)}",
            f"max value {v[j]:.6g} at {where(result, 'value', j)}"]


def _body(result: Result, indent: str, headline: Optional[Callable]) -> list:
    lines = []
    shown = {k: v for k, v in result.attrs.items() if k not in ("member_order", "created") and not k.endswith("_version")}
    if shown:
        lines.append(indent + "attributes: " + ", ".join(f"{k} = {fmt(v)}" for k, v in shown.items()))
    for name, values in result.coords.items():
        lines.append(f"{indent}coordinate {name}: {len(values)} points on [{values.min():g}, {values.max():g}]")
    for name, values in result.data.items():
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        summary = f"min {finite.min():.6g}, max {finite.max():.6g}" if finite.size else "no finite entries"
        lines.append(f"{indent}dataset {name} {values.shape} over ({', '.join(result.dims[name])}): {summary}")
    if headline is not None and result.data:
        lines.extend(indent + line for line in headline(result))
    for member, sub in result.members.items():
        lines.append(f"{indent}[{member}]")
        lines.extend(_body(sub, indent + "  ", headline))
    return lines


def describe(result: Result, headline: Optional[Callable] = None) -> list:
    """Every line ``hjb show`` prints; ``headline(result)`` adds the kind's headline numbers."""
    lines = [f"kind: {result.kind}"]
    for key in ("created", "hjb_version"):
        if result.attrs.get(key):
            lines.append(f"{key}: {result.attrs[key]}")
    versions = [f"{k[:-len('_version')]} {v}" for k, v in result.attrs.items()
                if k.endswith("_version") and k != "hjb_version"]
    if versions:
        lines.append("computed with: " + ", ".join(versions))
    lines.extend(parameters(result.case_text))
    if result.members:
        lines.append(f"sweep over {result.attrs.get('sweep', '?')}: {len(result.members)} members")
    lines.extend(_body(result, "", headline))
    return lines
