"""The figures that scripts and notebooks draw: rendered to PNG with Agg, labelled, not blank."""
import numpy as np
from matplotlib.image import imread

from hjb.output import figures as plots


def _drawn(path):
    image = imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    return np.std(image[..., :3]) > 0.01          # something besides the background


def test_convergence_plot_with_reference_slopes(tmp_path):
    h = np.array([0.1, 0.05, 0.025])
    fig = plots.convergence({"scheme": (h, 0.3 * h)}, "h", "error", "orders", slopes=(1, 2))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["scheme", "slope 1", "slope 2"]
    slope = np.polyfit(np.log(ax.get_lines()[2].get_xdata()), np.log(ax.get_lines()[2].get_ydata()), 1)[0]
    assert abs(slope - 2) < 1e-12
    assert ax.get_xlabel() == "h" and ax.get_title() == "orders"
    assert _drawn(plots.write_figure(fig, tmp_path / "c.png"))


def test_curve_panels_and_cell_map(tmp_path):
    x = np.linspace(-1, 1, 50)
    fig = plots.curve_panels(x, {"A": {"t = 0": x**2}, "B": {"t = 1": np.abs(x)}}, "x", "u", "title")
    assert [ax.get_title() for ax in fig.axes] == ["A", "B"] and fig.axes[0].get_ylabel() == "u"
    assert _drawn(plots.write_figure(fig, tmp_path / "p.png"))
    radii, exponents, fixed = [1, 2, 3], [1.0, 4.5], [1e-2]
    errors = np.array([[0.5, 0.4, 0.3], [0.1, 0.05, 0.02], [0.05, 1e-3, 0.02]])
    fig = plots.cell_error_map({"quadratic": errors}, radii, exponents, fixed)
    assert all(ax.get_xlabel() for ax in fig.axes if ax.get_label() != "<colorbar>")
    assert _drawn(plots.write_figure(fig, tmp_path / "m.png"))


def test_write_figure_is_atomic_and_refuses_to_overwrite(tmp_path):
    import pytest
    fig, _ = plots.new_figure()
    path = plots.write_figure(fig, tmp_path / "f.png")
    with pytest.raises(plots.InputError, match="exists already"):
        plots.write_figure(fig, path, force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]
