"""What a result holds, as lines of text (``hjb show``): kind, parameters,
datasets with shapes, and the headline numbers of its kind.

Headlines are a registry (kind -> function(result) -> lines), like the kinds
themselves; an unknown kind still gets the generic description.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .result import Result

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

HEADLINES: dict = {}


def headline(*kinds: str):
    """Decorator: ``function(result) -> list of str`` gives the headline numbers of ``kinds``."""
    def wrap(func: Callable):
        for kind in kinds:
            HEADLINES[kind] = func
        return func
    return wrap


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_fmt(v)}" for k, v in value.items()) + "}"
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
            lines.append(f"{table}: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in case[table].items()))
    return lines


def _where(result: Result, name: str, index) -> str:
    parts = []
    for dim, i in zip(result.dims[name], index):
        if dim in result.coords:
            parts.append(f"{dim} = {result.coords[dim][i]:.6g}")
        else:
            parts.append(f"{dim} #{i}")
    return ", ".join(parts)


@headline("eps_hjb", "effective", "egd", "viscous_hj", "hopf_lax", "exit_time")
def _value(result: Result) -> list:
    if "value" not in result.data:
        return []
    v = result["value"]
    finite = np.where(np.isfinite(v), v, np.inf)
    i = np.unravel_index(int(np.argmin(finite)), v.shape)
    j = np.unravel_index(int(np.argmax(np.where(np.isfinite(v), v, -np.inf))), v.shape)
    return [f"min value {v[i]:.6g} at {_where(result, 'value', i)}",
            f"max value {v[j]:.6g} at {_where(result, 'value', j)}"]


@headline("hbar")
def _hbar(result: Result) -> list:
    x, p, h = result["x"], result["p"], result["hbar"]
    lines = ["H-bar at the pairs (x, p):"]
    for k in range(min(len(h), 20)):
        lines.append(f"  x = {_fmt(np.round(x[k], 6).tolist())}, p = {_fmt(np.round(p[k], 6).tolist())}: "
                     f"H-bar = {h[k]:.10g}")
    if len(h) > 20:
        lines.append(f"  ... ({len(h) - 20} more)")
    return lines


@headline("cell")
def _cell(result: Result) -> list:
    lines = []
    if "delta_omega_at_center" in result.attrs:
        lines.append(f"delta omega at the centre = {result.attrs['delta_omega_at_center']:.10g} "
                     "(approximates -H-bar(xbar, pbar))")
    return lines


@headline("sde")
def _sde(result: Result) -> list:
    lines = []
    if "g_X_T" in result.data:
        g = result["g_X_T"]
        half = 1.96 * np.std(g, ddof=1) / np.sqrt(len(g)) if len(g) > 1 else float("nan")
        lines.append(f"E g(X_T) = {np.mean(g):.6g} +- {half:.2g} (95% CI, {len(g)} paths)")
    if "X_T" in result.data:
        lines.append(f"mean X_T = {_fmt(np.round(np.mean(result['X_T'], axis=0), 6).tolist())}")
    if "x_hat_T" in result.attrs:
        lines.append(f"entropic gradient descent x_hat_T = {_fmt(result.attrs['x_hat_T'])}")
    return lines


def _body(result: Result, indent: str) -> list:
    lines = []
    shown = {k: v for k, v in result.attrs.items() if k not in ("member_order", "created", "hjb_version")}
    if shown:
        lines.append(indent + "attributes: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in shown.items()))
    for name, values in result.coords.items():
        lines.append(f"{indent}coordinate {name}: {len(values)} points on [{values.min():g}, {values.max():g}]")
    for name, values in result.data.items():
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        summary = f"min {finite.min():.6g}, max {finite.max():.6g}" if finite.size else "no finite entries"
        lines.append(f"{indent}dataset {name} {values.shape} over ({', '.join(result.dims[name])}): {summary}")
    func = HEADLINES.get(result.kind)
    if func is not None and result.data:
        lines.extend(indent + line for line in func(result))
    for member, sub in result.members.items():
        lines.append(f"{indent}[{member}]")
        lines.extend(_body(sub, indent + "  "))
    return lines


def describe(result: Result) -> list:
    """Every line ``hjb show`` prints."""
    lines = [f"kind: {result.kind}"]
    for key in ("created", "hjb_version"):
        if result.attrs.get(key):
            lines.append(f"{key}: {result.attrs[key]}")
    lines.extend(parameters(result.case_text))
    if result.members:
        lines.append(f"sweep over {result.attrs.get('sweep', '?')}: {len(result.members)} members")
    lines.extend(_body(result, ""))
    return lines
