"""Drawing helpers for the natural picture of a result (``hjb plot``, scripts, notebooks).

Each kind draws its own picture (``plot`` of its :class:`hjb.runner.kind.KindSpec`,
a function ``draw(fig, result)``) with these helpers: lines and images of named
datasets with labelled axes and labelled colour bars, one entry per sweep member,
in the notation of the papers (mathtext: ``$V^\\varepsilon$``, ``$\\bar H$``, ...).
Nothing here imports matplotlib: the helpers draw on the axes they are given;
:mod:`hjb.output.figures` makes the Figure.
"""
from __future__ import annotations

import re
import textwrap

import numpy as np

from .result import Result

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

#: parameter names -> mathtext symbols (no spaces inside $...$: titles are wrapped on spaces)
SYMBOLS = {"eps": r"\varepsilon", "gamma": r"\gamma", "beta": r"\beta", "delta": r"\delta", "eta": r"\eta",
           "sigma": r"\sigma", "kappa": r"\kappa", "xbar": r"\bar{x}", "pbar": r"\bar{p}", "x0": "x_0",
           "y0": "y_0", "T": "T", "t": "t", "n": "n", "h": "h", "dt": r"\Delta{t}"}

#: (kind, dataset) -> the symbol a paper uses for it
DATASET_SYMBOLS = {("eps_hjb", "value"): r"V^\varepsilon", ("effective", "value"): "v",
                   ("egd", "value"): r"\mathcal{V}", ("viscous_hj", "value"): "u", ("hopf_lax", "value"): "u",
                   ("exit_time", "value"): r"\tau", ("fokker_planck", "density"): r"\rho",
                   ("cell", "omega"): r"\omega"}


def members(result: Result) -> list:
    """``[(label, Result)]``: the members of a sweep, or the result itself."""
    if result.members:
        return list(result.members.items())
    return [("", result)]


def case_data(result: Result) -> dict:
    """The case the result was computed from (its TOML text parsed; {} if unreadable)."""
    try:
        return tomllib.loads(result.case_text) if result.case_text else {}
    except tomllib.TOMLDecodeError:
        return {}


_case = case_data


def number(value) -> str:
    """A number as mathtext prints it: 0.1, 2.5, 10^{-3}, 3\\times10^{-5}."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    value = float(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        mantissa, exponent = f"{value:.3e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        head = "" if mantissa == "1" else ("-" if mantissa == "-1" else mantissa + r"\times")
        return f"{head}10^{{{int(exponent)}}}"
    return f"{value:.4g}"


def symbol(name: str) -> str:
    """The mathtext symbol of a parameter or swept key (``eps`` -> ``\\varepsilon``,
    ``grid.x.points`` -> ``N_x``), without dollars."""
    if name.startswith("grid.") and name.endswith(".points"):
        return f"N_{{{name.split('.')[1]}}}"
    return SYMBOLS.get(name, r"\mathrm{" + name.replace("_", r"\_") + "}")


def pretty(label: str) -> str:
    """A sweep member name as a paper prints it: ``eps=0.1`` -> ``$\\varepsilon = 0.1$``,
    ``grid.x.points=51`` -> ``$N_x = 51$`` (text without ``=`` unchanged)."""
    if not label or "=" not in label:
        return label
    parts = []
    for part in label.split(","):
        key, _, value = part.partition("=")
        try:
            shown = number(float(value))
        except ValueError:
            shown = r"\times".join(value.split("x")) if re.fullmatch(r"\d+(x\d+)+", value) else value
        parts.append(f"${symbol(key.strip())} = {shown}$")
    return ", ".join(parts)


def dataset_symbol(kind: str, name: str) -> str:
    """The mathtext (with dollars) of a dataset: ``$V^\\varepsilon$`` for the value of eps_hjb."""
    found = DATASET_SYMBOLS.get((kind, name))
    return f"${found}$" if found else name.replace("_", " ")


def notation(text: str) -> str:
    """Plain-text notation as mathtext: ``H-bar`` -> ``$\\bar H$``, ``V^eps`` -> ``$V^\\varepsilon$``,
    ``delta omega`` -> ``$\\delta\\omega$``, a word ``eps`` -> ``$\\varepsilon$``; dollars already
    in the text are kept when balanced, escaped otherwise (so any title renders)."""
    if text.count("$") % 2:
        return text.replace("$", r"\$")
    pieces = re.split(r"(\$[^$]*\$)", text)
    for i in range(0, len(pieces), 2):          # outside existing mathtext only
        s = pieces[i]
        s = re.sub(r"\bH-bar\b|H̄", r"$\\bar{H}$", s)
        s = re.sub(r"\bV\^(eps|ε)", r"$V^\\varepsilon$", s)
        s = re.sub(r"\bdelta[ -]?omega\b|δ ?ω", r"$\\delta\\omega$", s)
        s = re.sub(r"\b(eps|epsilon)\b(?!_)", r"$\\varepsilon$", s)
        s = re.sub(r"𝒱", r"$\\mathcal{V}$", s)
        pieces[i] = s
    return "".join(pieces)


def _short(value) -> str:
    if isinstance(value, float):
        shown = number(value)
        return f"${shown}$" if "^" in shown else shown
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:4]) + (", ..." if len(value) > 4 else "") + "]"
    return str(value).replace("$", r"\$")


#: parameter names as the title line prints them (Greek as DejaVu Sans glyphs, bars as mathtext)
_TITLE_NAMES = {"gamma": "γ", "eps": "ε", "beta": "β", "delta": "δ", "eta": "η", "sigma": "σ", "kappa": "κ",
                "xbar": r"$\bar{x}$", "pbar": r"$\bar{p}$", "x0": "$x_0$", "y0": "$y_0$"}


def _parameter(key: str) -> str:
    return _TITLE_NAMES.get(key, key)


def title(result: Result) -> str:
    """The case title (its notation as mathtext), then the parameters that define the run."""
    case = case_data(result)
    model = case.get("model", {}) if isinstance(case.get("model"), dict) else {}
    loss = model.get("loss", {}) if isinstance(model.get("loss"), dict) else {}
    parts = [f"{result.kind}"]
    if "name" in loss:
        parts.append(f"loss {_short(loss['name'])}")
    for key in ("dim", "gamma", "controls"):
        if key in model:
            parts.append(f"{_parameter(key) if key == 'gamma' else key}\u00a0=\u00a0{_short(model[key])}")
    solve = case.get("solve", {}) if isinstance(case.get("solve"), dict) else {}
    for key, value in solve.items():
        if not isinstance(value, (dict,)) and key not in ("x", "p"):
            parts.append(f"{_parameter(key)}\u00a0=\u00a0{_short(value)}")
    head = notation(str(case.get("title") or result.kind))
    lines = textwrap.wrap(", ".join(parts), 110, break_on_hyphens=False)   # never inside "key = value"
    return f"{head}\n" + "\n".join(lines).replace("\u00a0", " ")


def reduce_to(result: Result, name: str, keep: int):
    """The dataset with all but its first ``keep`` axes fixed at their middle node.

    Returns (array, axis names kept, text naming the fixed coordinates, as mathtext)."""
    values, dims = result[name], result.dims[name]
    index, fixed = [], []
    for k, dim in enumerate(dims):
        if k < keep:
            index.append(slice(None))
        else:
            i = values.shape[k] // 2
            index.append(i)
            where = f"{result.coords[dim][i]:.3g}" if dim in result.coords else f"#{i}"
            fixed.append(f"${axis_symbol(dim)} = {where}$")
    return values[tuple(index)], dims[:keep], ", ".join(fixed)


def axis_symbol(dim: str) -> str:
    """``x1`` -> ``x_1``: the mathtext of an axis name (no dollars)."""
    match = re.fullmatch(r"([a-z])(\d)", dim)
    return f"{match.group(1)}_{match.group(2)}" if match else dim


def axis_label(dim: str) -> str:
    return f"${axis_symbol(dim)}$" if re.fullmatch(r"[a-z]\d?", dim) else dim


def _axis_values(result: Result, dim: str, n: int) -> np.ndarray:
    return result.coords[dim] if dim in result.coords else np.arange(n)


def line(ax, result: Result, name: str, label: str = "", ylabel: str = "", **style):
    """A 1-D dataset (after fixing its other axes) against its coordinate."""
    values, dims, fixed = reduce_to(result, name, 1)
    ax.plot(_axis_values(result, dims[0], len(values)), values, label=pretty(label) or None, **style)
    ax.set_xlabel(axis_label(dims[0]))
    ax.set_ylabel((ylabel or dataset_symbol(result.kind, name)) + (f" at {fixed}" if fixed else ""))


def symmetric_limits(values) -> tuple:
    """(-m, m) with m the largest finite |value| (a diverging colour map centred at 0)."""
    finite = np.abs(np.asarray(values, float)[np.isfinite(values)])
    m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return -m, m


def robust_limits(values, where=None, percentiles=(1.0, 99.0)) -> tuple:
    """Colour limits from the finite values (inside ``where`` if given) between two percentiles."""
    values = np.asarray(values, float)
    chosen = values[np.isfinite(values) & (True if where is None else where)]
    if chosen.size == 0:
        chosen = values[np.isfinite(values)]
    if chosen.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(chosen, percentiles))
    return (lo, hi) if hi > lo else (lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0))


def colour_map(fig, ax, u, v, values, label: str, cmap: str = "viridis", limits=None, title: str = ""):
    """``values[i, j]`` at (u[i], v[j]) as a colour map with a labelled colour bar; NaN stays blank.
    ``limits`` (lo, hi) clip the colours (the bar then shows arrows for the values beyond)."""
    values = np.asarray(values, float)
    lo, hi = limits if limits is not None else (None, None)
    mesh = ax.pcolormesh(u, v, np.ma.masked_invalid(values).T, shading="auto", cmap=cmap, vmin=lo, vmax=hi)
    finite = values[np.isfinite(values)]
    extend = "neither"
    if limits is not None and finite.size:
        below, above = finite.min() < lo - 1e-12 * abs(lo), finite.max() > hi + 1e-12 * abs(hi)
        extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get((below, above), "neither")
    fig.colorbar(mesh, ax=ax, label=label, extend=extend)
    if title:
        ax.set_title(title, fontsize="medium")
    return mesh


def image(fig, ax, result: Result, name: str, cmap: str = "viridis", label: str = "", limits=None):
    """A 2-D dataset (after fixing its other axes) as a colour map with a labelled colour bar;
    NaN stays blank; ``limits`` as in :func:`colour_map`."""
    values, dims, fixed = reduce_to(result, name, 2)
    u = _axis_values(result, dims[0], values.shape[0])
    v = _axis_values(result, dims[1], values.shape[1])
    text = label or dataset_symbol(result.kind, name)
    colour_map(fig, ax, u, v, values, text, cmap=cmap, limits=limits,
               title=text + (f" at {fixed}" if fixed else ""))
    if dims[0] in result.coords and dims[1] in result.coords and dims[0][0] == dims[1][0]:
        ax.set_aspect("equal")          # two axes of one variable (x1, x2 or y1, y2): same scale
    ax.set_xlabel(axis_label(dims[0]))
    ax.set_ylabel(axis_label(dims[1]))


def legend(ax, entries=None):
    """A legend when some curve is labelled (``entries``: the members, kept for old callers)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def generic(fig, result: Result):
    """``value`` if present, else the first dataset: a line (1 axis) or an image."""
    entries = members(result)
    last = entries[-1][1]
    name = "value" if "value" in last.data else next((n for n, v in last.data.items() if v.ndim >= 1), None)
    ax = fig.subplots()
    if name is None:
        ax.text(0.5, 0.5, "nothing to plot", ha="center")
        ax.set(xlabel=" ", ylabel=" ")
        return
    if last[name].ndim >= 2:
        image(fig, ax, last, name)
    else:
        for label, sub in entries:
            line(ax, sub, name, label)
        legend(ax)
