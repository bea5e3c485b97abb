"""Objects built from validated case data: the loss, the model and the grids."""
from __future__ import annotations

import contextlib
import sys
import warnings

from ..errors import InputError
from ..grid import Grid
from ..losses import Loss, make_loss
from ..model import AssumptionWarning, DeepRelaxation
from ..output.result import Result


@contextlib.contextmanager
def beside_the_case(data: dict):
    """The case file's folder on sys.path for the block, so that a user loss
    ``"package.module:function"`` next to the case file imports without PYTHONPATH."""
    folder = data.get("_folder")
    if not folder or folder in sys.path:
        yield
        return
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


def build_loss(data: dict) -> Loss:
    m = data["model"]
    with beside_the_case(data):
        return make_loss(m["loss"]["name"], m["dim"], **{k: v for k, v in m["loss"].items() if k != "name"})


def build_model(data: dict) -> DeepRelaxation:
    m = data["model"]
    loss = build_loss(data)
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


def grid_result(kind: str, value, grids: list, attrs: dict, long_name: str = "") -> Result:
    """A Result holding ``value`` on the product of ``grids`` (axes named by their coordinates);
    ``long_name`` says what the value is (stored as its CF ``long_name``)."""
    result = Result(kind, attrs=attrs)
    for grid in grids:
        result.coords.update(grid.coordinates())
    result.add("value", value, tuple(n for g in grids for n in g.coordinate_names))
    if long_name:
        result.describe("value", long_name)
    return result
