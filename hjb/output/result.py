"""What a run returns and a result file holds: named arrays on named coordinates."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Result:
    """What a run returns and a result file holds: named arrays on named coordinates.

    Returned by :func:`hjb.run`, written by :func:`hjb.save`, read back by
    :func:`hjb.load` (SPEC section 10 lists the datasets of each kind).

    Parameters
    ----------
    kind : str
        The kind of run ("eps_hjb", "hbar", ...).
    data : dict
        name -> ndarray: the datasets (``result[name]`` is ``result.data[name]``).
    dims : dict
        name -> tuple of axis names, one per axis of ``data[name]``; the names
        found in ``coords`` are coordinate axes ("x", "y"; "x1", "x2", ... in d >= 2).
    coords : dict
        axis name -> 1-D ndarray of its nodes.
    attrs : dict
        Scalar facts (parameters, headline numbers, ``wall_time``; after
        :func:`hjb.load` also ``created`` and ``hjb_version``).
    case_text : str
        The case as run, TOML text (overrides applied).
    members : dict
        For a sweep, "KEY=VALUE" -> the Result of that member (the top level
        then holds no datasets).

    Example
    -------
    >>> import numpy as np, hjb
    >>> result = hjb.Result("effective", coords={"x": np.linspace(-1.0, 1.0, 3)})
    >>> result.add("value", np.array([1.0, 0.0, 1.0]), ("x",))
    >>> result["value"], result.dims["value"]
    (array([1., 0., 1.]), ('x',))
    """

    kind: str
    data: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)
    coords: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    case_text: str = ""
    members: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __getattr__(self, name: str):
        """``result.value``, ``result.omega``, ...: the datasets as attributes, like the solvers'
        solution objects (``hjb.solve_eps_hjb(...).value``)."""
        data = self.__dict__.get("data", {})
        if name in data:
            return data[name]
        raise AttributeError(f"'{type(self).__name__}' of kind '{self.__dict__.get('kind')}' has no "
                             f"attribute or dataset '{name}'")

    def describe(self, name: str, long_name: str, units: str = "1", **more) -> None:
        """CF-style ``long_name`` and ``units`` (and any further attributes) of a dataset or coordinate."""
        self.meta[name] = {"long_name": long_name, "units": units, **more}

    def to_xarray(self):
        """An ``xarray.Dataset`` (one run) or ``xarray.DataTree`` (a sweep: one node per member,
        in run order), with named coordinates; needs xarray (``pip install xarray``)."""
        import xarray as xr

        def dataset(result):
            # auxiliary coordinates: the datasets a dataset names in its CF "coordinates" attribute
            # (H-bar's x and p, the effective value's candidate labels), as xarray reads the file
            auxiliary = {name for meta in result.meta.values() for name in str(meta.get("coordinates", "")).split()
                         if name in result.data and name not in result.coords}
            coords = {name: (name, values, result.meta.get(name, {})) for name, values in result.coords.items()}
            coords.update({name: (result.dims[name], result.data[name], result.meta.get(name, {})) for name in auxiliary})
            variables = {name: (result.dims[name], values, result.meta.get(name, {}))
                         for name, values in result.data.items() if name not in result.coords and name not in auxiliary}
            attrs = {"kind": result.kind, **({"case": result.case_text} if result.case_text else {}),
                     **{k: v for k, v in result.attrs.items() if isinstance(v, (int, float, str))}}
            return xr.Dataset(variables, coords=coords, attrs=attrs)

        if not self.members:
            return dataset(self)
        tree = {"/": xr.Dataset(attrs={"kind": self.kind, "sweep": str(self.attrs.get("sweep", ""))})}
        tree.update({f"/{name}": dataset(sub) for name, sub in self.members.items()})
        return xr.DataTree.from_dict(tree)

    def add(self, name: str, array, dims: tuple) -> None:
        """Store ``array`` as dataset ``name`` with one axis name per axis (ValueError otherwise)."""
        array = np.asarray(array)
        if array.ndim != len(dims):
            raise ValueError(f"{name}: {array.ndim} axes but dims {dims}")
        self.data[name] = array
        self.dims[name] = tuple(dims)
