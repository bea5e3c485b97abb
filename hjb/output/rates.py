"""Convergence pictures: errors against a step or a parameter on log-log axes with the fitted
order (:func:`hjb.output.tables.observed_order`), and the refinement study of any sweep over
``grid.<block>.points``.

Like :mod:`hjb.output.plots`, nothing here imports matplotlib: the helpers draw on the
Figure or the axes they are given.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .plots import DATASET_SYMBOLS, axis_label, colour_map, members, pretty, reduce_to, robust_limits
from .result import Result
from .tables import observed_order


def fit_order(sizes, errors):
    """(order p, constant C) of error ~ C size^p over the positive finite pairs, or None (< 2 pairs)."""
    sizes, errors = np.asarray(sizes, float), np.asarray(errors, float)
    keep = np.isfinite(sizes) & np.isfinite(errors) & (sizes > 0) & (errors > 0)
    if keep.sum() < 2 or np.ptp(np.log(sizes[keep])) == 0:
        return None
    p = observed_order(sizes[keep], errors[keep])
    return p, float(np.exp(np.mean(np.log(errors[keep]) - p * np.log(sizes[keep]))))


def loglog_rate(ax, sizes, errors, label: str, what: str = "order", marker: str = "o", color=None):
    """``errors`` against ``sizes`` on log-log axes (markers), with the least-squares power law
    dashed and its exponent in the legend (``what``: "order" for a step, "rate" for a parameter).
    Returns the fitted exponent or None."""
    sizes, errors = np.asarray(sizes, float), np.asarray(errors, float)
    shown = np.where(errors > 0, errors, np.nan)
    (points,) = ax.loglog(sizes, shown, marker=marker, ls="none", color=color, label=label)
    fit = fit_order(sizes, errors)
    if fit is not None:
        p, c = fit
        span = np.geomspace(np.nanmin(sizes[sizes > 0]), np.nanmax(sizes), 50)
        ax.loglog(span, c * span ** p, ls="--", lw=1.0, color=points.get_color(), alpha=0.8,
                  label=f"fitted {what} {p:.2f}")
    return None if fit is None else fit[0]


def is_refinement(result: Result) -> bool:
    """A sweep over the grid point counts (``grid.<block>.points``) with at least two members."""
    return str(result.attrs.get("sweep", "")).startswith("grid.") and len(result.members) >= 2


def step(sub: Result, name: str) -> float:
    """The grid step of a member: the largest node spacing over the coordinate axes of ``name``."""
    spacings = [float(np.max(np.diff(sub.coords[d]))) for d in sub.dims[name]
                if d in sub.coords and d != "time" and len(sub.coords[d]) > 1]
    return max(spacings) if spacings else float("nan")


def _axes(sub: Result, name: str) -> list:
    return [np.asarray(sub.coords[d], float) if d in sub.coords else np.arange(n, dtype=float)
            for d, n in zip(sub.dims[name], sub[name].shape)]


def sample(sub: Result, name: str, target: Result) -> np.ndarray:
    """``sub[name]`` at the nodes of ``target`` (multilinear interpolation; exact on nested grids)."""
    source, nodes = _axes(sub, name), _axes(target, name)
    if all(len(a) == len(b) and np.allclose(a, b) for a, b in zip(source, nodes)):
        return np.asarray(sub[name], float)
    from scipy.interpolate import RegularGridInterpolator
    keep = [len(a) > 1 for a in source]            # axes of one node are fixed, not interpolated
    values = np.asarray(sub[name], float)[tuple(slice(None) if k else 0 for k in keep)]
    axes = [a for a, k in zip(source, keep) if k]
    where = np.stack(np.meshgrid(*[b for b, k in zip(nodes, keep) if k], indexing="ij"), axis=-1)
    out = RegularGridInterpolator(axes, values, bounds_error=False, fill_value=np.nan)(where)
    return out.reshape(tuple(len(b) if k else 1 for b, k in zip(nodes, keep)))


def _sup(a) -> float:
    a = np.abs(np.asarray(a, float))
    return float(np.max(a[np.isfinite(a)])) if np.isfinite(a).any() else float("nan")


def _decades(log_values, count: float):
    """Colour limits for log10 data: the largest value and at most ``count`` decades below it."""
    lo, hi = robust_limits(log_values, percentiles=(2.0, 100.0))
    return max(lo, hi - count), hi


def refinement(fig, result: Result, name: str, reference: Optional[Callable] = None):
    """The refinement study of a sweep over grid point counts: the max-norm error at the nodes
    of the coarsest grid against the step h on log-log axes with the fitted order, and where
    the error lives.  ``reference(sub)`` may return the exact answer on the grid of ``sub``
    (NaN where it should not count); without it the finest member is the reference (and the
    successive differences are drawn too)."""
    entries = sorted(members(result), key=lambda e: -step(e[1], name))
    coarse = entries[0][1]
    symbol = DATASET_SYMBOLS.get((result.kind, name), "u")
    steps = np.array([step(sub, name) for _, sub in entries])
    samples = [sample(sub, name, coarse) for _, sub in entries]
    exact = reference(coarse) if reference is not None else None
    left, right = fig.subplots(1, 2)
    if exact is not None:
        diffs = [s - exact for s in samples]
        order = loglog_rate(left, steps, [_sup(d) for d in diffs], rf"$\|{symbol}_h - {symbol}\|_\infty$ (exact ${symbol}$)")
        if order is not None and order > 0 and len(samples) >= 2:
            from ..extrapolation import richardson
            extrapolated = [_sup(richardson(samples[k - 1:k + 1], steps[k - 1:k + 1], order).value - exact)
                            for k in range(1, len(samples))]
            loglog_rate(left, steps[1:], extrapolated,
                        rf"Richardson from $h$ and $2h$ (order {order:.2f})", marker="^")
        shown = list(zip(entries, steps, diffs))
    else:
        diffs = [s - samples[-1] for s in samples[:-1]]
        loglog_rate(left, steps[:-1], [_sup(d) for d in diffs], rf"$\|{symbol}_h - {symbol}_{{h_{{\min}}}}\|_\infty$")
        if len(samples) > 2:
            loglog_rate(left, steps[:-1], [_sup(a - b) for a, b in zip(samples[:-1], samples[1:])],
                        rf"$\|{symbol}_h - {symbol}_{{h/2}}\|_\infty$ (successive)", marker="s")
        shown = list(zip(entries[:-1], steps[:-1], diffs))
    left.set_xlabel("grid step $h$")
    left.set_ylabel("max-norm error at the coarsest nodes")
    left.set_title(f"refinement: ${symbol}$ on {len(entries)} grids", fontsize="medium")
    left.legend(fontsize="small")
    reference_name = "exact" if exact is not None else "finest grid"
    if coarse[name].ndim == 1:
        x = _axes(coarse, name)[0]
        for (label, _), h, d in shown:
            right.semilogy(x, np.where(np.abs(d) > 0, np.abs(d), np.nan), lw=1.2,
                           label=f"{pretty(label)}, $h = {h:.3g}$")
        right.set_xlabel(axis_label(coarse.dims[name][0]))
        right.set_ylabel(rf"$|{symbol}_h - {symbol}|$ ({reference_name})")
        right.set_title("where the error lives", fontsize="medium")
        right.legend(fontsize="small")
    else:
        error = Result(coarse.kind, coords=coarse.coords)
        magnitude = np.abs(shown[0][2])
        error.add("error", np.log10(np.where(magnitude > 0, magnitude, np.nan)), coarse.dims[name])
        values, dims, fixed = reduce_to(error, "error", 2)
        colour_map(fig, right, *_axes(error, "error")[:2], values,
                   rf"$\log_{{10}}|{symbol}_h - {symbol}|$ ({reference_name})", cmap="magma",
                   limits=_decades(values, 6),
                   title=f"coarsest grid, $h = {shown[0][1]:.3g}$" + (f", at {fixed}" if fixed else ""))
        right.set_xlabel(axis_label(dims[0]))
        right.set_ylabel(axis_label(dims[1]))


def richardson_lines(result: Result, name: str, reference: Optional[Callable] = None) -> list:
    """What ``hjb show`` says about a refinement study: Richardson extrapolation in h of ``name``
    at the coarsest nodes (:func:`hjb.extrapolation.richardson`), the order it used, the
    estimated error of the finest grid and of the extrapolated value, and, when the kind has
    an exact ``reference``, the true errors of both."""
    from ..extrapolation import richardson
    entries = sorted(members(result), key=lambda e: -step(e[1], name))
    coarse = entries[0][1]
    steps = [step(sub, name) for _, sub in entries]
    if not all(h > g > 0 for h, g in zip(steps, steps[1:])):
        return []
    samples = [sample(sub, name, coarse) for _, sub in entries]
    ext = richardson(samples, steps, None if len(samples) >= 3 else 1.0)
    how = "observed" if ext.observed else "assumed"
    lines = [f"Richardson extrapolation in h of {name} at the {samples[0].size} coarsest nodes "
             f"({len(samples)} grids, order {ext.order:.3g} {how}):",
             f"  estimated max error: finest grid {_sup(ext.error_finest):.3g}, "
             f"extrapolated {'–' if np.isnan(ext.error) else f'{ext.error:.3g}'}"]
    exact = reference(coarse) if reference is not None else None
    if exact is not None:
        lines.append(f"  true max error: finest grid {_sup(samples[-1] - exact):.3g}, "
                     f"extrapolated {_sup(ext.value - exact):.3g}")
    return lines
