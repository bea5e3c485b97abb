"""What a kind of run is: its schema, its checks, its runner, its picture and its headline.

Each module of :mod:`hjb.runner.kinds` defines its :class:`KindSpec` (or
several) and nothing else registers anything; :mod:`hjb.runner.registry` lists
the kind modules explicitly.  Solvers raise errors about their own arguments
(``eps``, ``x_grid``); :meth:`KindSpec.case_key` turns such a name into the
case key it comes from (``solve.eps``, ``grid.x``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..errors import InputError, NonFiniteError, check_finite

#: Solver argument names that are not [solve] keys, and the case keys they come from.
ARGUMENTS = {"x_grid": "grid.x", "y_grid": "grid.y", "steps": "solve", "dim": "model.dim",
             "gamma": "model.gamma", "controls": "model.controls"}


@dataclass(frozen=True)
class KindSpec:
    """One kind of run.

    ``solve`` is the schema of its [solve] table ({key: Key}), ``grids`` the grid
    blocks it needs, ``model`` the schema of [model] (None: the two-scale MODEL).
    ``runner(data, on_step) -> Result`` solves validated case data; ``check(data)``
    runs after the schemas and before any solve (cross-key mistakes);
    ``plot(fig, result)`` draws its natural picture and ``headline(result)``
    returns the lines ``hjb show`` prints for it; ``memory(data)`` estimates
    the peak bytes a solve needs (a :class:`hjb.limits.Estimate`, within -20%/+50% of
    the measured peak: scripts/bench_memory.py), checked before the runner starts.  ``arguments`` maps further solver argument names
    to case keys.  ``datasets`` names what every result of the kind holds (a file
    claiming the kind without them is refused), ``nan_outside`` the datasets in
    which NaN marks nodes outside the domain, or a label that does not apply (everywhere else
    NaN is a failure).
    ``reference(result)`` may return the exact answer on the grid of one result
    (its first dataset), or None: the refinement picture of a sweep over grid
    point counts then measures errors against it instead of the finest grid.
    """

    name: str
    solve: dict
    runner: Callable
    grids: tuple = ()
    model: Optional[dict] = None
    check: Optional[Callable] = None
    plot: Optional[Callable] = None
    headline: Optional[Callable] = None
    arguments: dict = field(default_factory=dict)
    datasets: tuple = ()
    nan_outside: tuple = ()
    memory: Optional[Callable] = None
    reference: Optional[Callable] = None

    def case_key(self, key: str) -> str:
        """The case key behind a solver argument name (unchanged if it is one already)."""
        if key in self.arguments:
            return self.arguments[key]
        if key in self.solve:
            return f"solve.{key}"
        if key == "grid" and len(self.grids) == 1:
            return f"grid.{self.grids[0]}"
        return ARGUMENTS.get(key, key)

    def in_case_terms(self, exc: InputError) -> InputError:
        return InputError(self.case_key(exc.key), exc.message)

    def check_finite_result(self, result) -> None:
        """Every number a run returns is finite (NaN only where ``nan_outside`` allows it)."""
        for name, values in result.data.items():
            if values.dtype.kind != "f":
                continue
            checked = np.where(np.isnan(values), 0.0, values) if name in self.nan_outside else values
            where = {dim: result.coords.get(dim, np.arange(n)) for dim, n in zip(result.dims[name], values.shape)}
            check_finite(checked, f"{self.name}: result '{name}'", None, where)
        for key, value in result.attrs.items():
            if isinstance(value, float) and not np.isfinite(value):
                raise NonFiniteError(f"{self.name}: result attribute '{key}' is {value}")

    def check_contents(self, result, path: str) -> None:
        """A result file claiming this kind holds its datasets (in every sweep member)."""
        for label, sub in (result.members.items() if result.members else [("", result)]):
            missing = [name for name in self.datasets if name not in sub.data]
            if missing:
                where = f" in group '{label}'" if label else ""
                raise InputError(path, f"claims kind '{self.name}' but holds no {', '.join(missing)}{where}")
