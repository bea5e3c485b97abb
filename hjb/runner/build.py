"""Objects built from validated case data: the loss, the model and the grids."""
from __future__ import annotations

import warnings

from ..errors import InputError
from ..grid import Grid
from ..losses import Loss, make_loss
from ..model import AssumptionWarning, DeepRelaxation
from ..output.result import Result


def build_loss(data: dict) -> Loss:
    m = data["model"]
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


def grid_result(kind: str, value, grids: list, attrs: dict) -> Result:
    """A Result holding ``value`` on the product of ``grids`` (axes named by their coordinates)."""
    result = Result(kind, attrs=attrs)
    for grid in grids:
        result.coords.update(grid.coordinates())
    result.add("value", value, tuple(n for g in grids for n in g.coordinate_names))
    return result
