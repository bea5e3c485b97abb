"""Issue 14, "pictures worth printing": the natural picture of every kind, drawn from real
small runs (single runs and sweeps, a refinement study among them), is labelled like a
paper figure: every panel has x and y labels, every colour bar a label, a legend wherever
a panel holds several curves, finite data, mathtext notation (no raw ``eps=`` or ``H-bar``),
and no glyph the font lacks."""
import io
import re
import warnings

import numpy as np
import pytest
from matplotlib.collections import QuadMesh

import hjb
from hjb.runner.case import case_from_dict
from hjb.runner.registry import KINDS
from hjb.runner.show import picture

QUADRATIC = {"gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}}
QUADRATIC_2D = {"dim": 2, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": [0.5, 0.0]}}
LINE = {"lower": -3.0, "upper": 3.0, "points": 25}

CASES = {
    "eps_hjb": {"kind": "eps_hjb", "title": "V^eps at eps = 0.01", "model": QUADRATIC,
                "grid": {"x": LINE, "y": LINE}, "solve": {"T": 0.3, "eps": 0.01}},
    "eps_hjb sweep": {"kind": "eps_hjb", "title": "V^eps for a decreasing sequence of eps", "model": QUADRATIC,
                      "grid": {"x": LINE, "y": LINE}, "solve": {"T": 0.3, "eps": [0.1, 0.03, 0.01]}},
    "eps_hjb 2d": {"kind": "eps_hjb", "model": QUADRATIC_2D,
                   "grid": {"x": {"lower": [-2.0, -2.0], "upper": [2.0, 2.0], "points": [5, 5]},
                            "y": {"lower": [-2.0, -2.0], "upper": [2.0, 2.0], "points": [5, 5]}},
                   "solve": {"T": 0.2, "eps": 0.1}},
    "effective": {"kind": "effective", "model": QUADRATIC, "grid": {"x": {**LINE, "points": 61}},
                  "solve": {"T": [0.25, 1.0]}},
    "effective refinement": {"kind": "effective", "model": QUADRATIC,
                             "grid": {"x": {**LINE, "points": [25, 49, 97]}}, "solve": {"T": 0.5, "scheme": "monotone"}},
    "effective refinement filtered": {"kind": "effective", "model": QUADRATIC,
                                      "grid": {"x": {**LINE, "points": [25, 49, 97]}}, "solve": {"T": 0.5}},
    "egd": {"kind": "egd", "model": QUADRATIC, "grid": {"x": {**LINE, "points": 61}}, "solve": {"T": 0.5}},
    "hbar": {"kind": "hbar", "title": "H-bar at five pairs", "model": QUADRATIC,
             "solve": {"x": [-2.0, -1.0, 0.0, 1.0, 2.0], "p": [1.0, 1.0, -1.0, -1.0, 0.5]}},
    "hbar 2d": {"kind": "hbar", "model": QUADRATIC_2D, "solve": {"x": [[0.0, 0.0], [1.0, 0.5]],
                                                                  "p": [[1.0, 0.0], [0.5, -1.0]]}},
    "cell": {"kind": "cell", "title": "delta omega -> -H-bar", "model": QUADRATIC,
             "solve": {"xbar": 0.3, "pbar": 1.0, "n": 4.0, "delta": 1e-4, "h": 0.05}},
    "cell 2d": {"kind": "cell", "model": QUADRATIC_2D,
                "solve": {"xbar": [0.3, 0.1], "pbar": [1.0, 0.5], "n": 3.0, "delta": 1e-3, "h": 0.2}},
    "cell sweep": {"kind": "cell", "model": QUADRATIC,
                   "solve": {"xbar": 0.3, "pbar": 1.0, "n": 4.0, "delta": [1e-1, 1e-2, 1e-3], "h": 0.05}},
    "viscous_hj": {"kind": "viscous_hj", "model": {"loss": {"name": "quadratic"}},
                   "grid": {"x": {**LINE, "points": 61}}, "solve": {"beta": 2.0, "t": [0.0, 0.5]}},
    "viscous_hj refinement": {"kind": "viscous_hj", "model": {"loss": {"name": "quadratic"}},
                              "grid": {"x": {**LINE, "points": [31, 61]}}, "solve": {"beta": 2.0, "t": 0.5}},
    "hopf_lax": {"kind": "hopf_lax", "model": {"loss": {"name": "rugged"}},
                 "grid": {"x": {**LINE, "points": 61}}, "solve": {"t": [0.0, 0.5]}},
    "sde": {"kind": "sde", "model": QUADRATIC,
            "solve": {"x0": -1.0, "T": 0.5, "eps": [0.1, 0.03], "paths": 50, "seed": 1}},
    "exit_time": {"kind": "exit_time", "model": {"loss": {"name": "double_well"}},
                  "grid": {"x": {"lower": -2.5, "upper": 1.0, "points": 81}}, "solve": {"beta": 4.0}},
    "fokker_planck": {"kind": "fokker_planck", "model": {"loss": {"name": "quadratic"}},
                      "grid": {"x": {"lower": -4.0, "upper": 4.0, "points": 81}},
                      "solve": {"beta": 2.0, "times": [0.1, 0.5], "x0": -1.0}},
    "sgd": {"kind": "sgd", "model": {"loss": {"name": "double_well"}},
            "solve": {"x0": -1.0, "eta": [0.25, 0.2], "iterations": 2000, "paths": 20, "seed": 1,
                      "exit_radius": 1.5}},
}
RAW = re.compile(r"eps=|H-bar|V\^eps|delta omega")
_results = {}


def result_of(name):
    if name not in _results:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hjb.AssumptionWarning)
            _results[name] = hjb.run(case_from_dict(CASES[name]))
    return _results[name]


def test_every_kind_has_a_picture_here():
    assert {case["kind"] for case in CASES.values()} == set(KINDS)


def _texts(fig):
    """Every string drawn: suptitle, titles, axis labels, legend entries, tick labels."""
    out = [fig._suptitle.get_text()] if fig._suptitle else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    return out


def _label(ax, which):
    """The axis label, or a twin's (twinx shares x: one label serves both)."""
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    get = (lambda a: a.get_xlabel()) if which == "x" else (lambda a: a.get_ylabel())
    return any(get(a).strip() for a in shared.get_siblings(ax))


def _curves(ax):
    """Lines that are curves (not the two-point rules of axhline/axvline)."""
    return [line for line in ax.get_lines() if len(np.atleast_1d(line.get_xdata())) > 2]


@pytest.mark.parametrize("name", list(CASES))
def test_picture_reads_like_a_paper_figure(name):
    result = result_of(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = picture(result)
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from" in str(w.message)]
    assert not glyphs, glyphs
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert panels
    for ax in panels:
        assert _label(ax, "x") and _label(ax, "y"), (name, ax.get_title())
        curves = _curves(ax)
        if len(curves) > 1:
            legend = ax.get_legend()
            assert legend is not None and legend.get_texts(), (name, ax.get_title(), "several curves, no legend")
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), float)
            assert not np.isinf(y).any() and np.isfinite(y).any(), (name, line.get_label())
        for mesh in [c for c in ax.collections if isinstance(c, QuadMesh)]:
            data = np.ma.masked_invalid(mesh.get_array())
            assert data.count() and np.isfinite(data.compressed()).all(), (name, ax.get_title())
    for bar in bars:
        assert (bar.get_ylabel() or bar.get_xlabel()).strip(), (name, "colour bar without a label")
    for text in _texts(fig):
        assert not RAW.search(text), (name, text)


def test_eps_hjb_draws_v_and_the_rate():
    """The limit v is stored with V^eps, and the eps sweep fits a rate on log-log axes."""
    single = result_of("eps_hjb")
    assert single["effective_value"].shape == single["value"].shape[:1]
    fig = picture(result_of("eps_hjb sweep"))
    rate = fig.axes[0]
    assert rate.get_xscale() == "log" and rate.get_yscale() == "log"
    assert any("fitted rate" in t.get_text() for t in rate.get_legend().get_texts())


@pytest.mark.parametrize("case, low, high", [("effective refinement", 0.5, 1.5),          # monotone: first order
                                              ("effective refinement filtered", 1.5, 4.0)])  # the default: higher
def test_refinement_plots_error_against_h_with_the_order(case, low, high):
    fig = picture(result_of(case))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and "h" in ax.get_xlabel()
    orders = [float(m.group(1)) for t in ax.get_legend().get_texts()
              if (m := re.search(r"fitted order (-?[\d.]+)", t.get_text()))]
    assert orders and low < orders[0] < high


def test_cell_stores_hbar_and_colours_the_interior():
    result = result_of("cell 2d")
    hbar = result.attrs["hbar_quadrature"]
    model = hjb.DeepRelaxation(hjb.make_loss("quadratic", 2, a=1.0, c=[0.5, 0.0]), 2.0)
    assert hbar == pytest.approx(hjb.effective_hamiltonian(model, [[0.3, 0.1]], [[1.0, 0.5]])[0], rel=1e-12)
    fig = picture(result)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    lo, hi = mesh.get_clim()
    full = np.nanmax(np.abs(result.attrs["delta"] * result["omega"] + hbar))
    assert hi - lo < full                             # the boundary layer is not what sets the range
