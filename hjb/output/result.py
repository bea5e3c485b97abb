"""What a run returns and a result file holds: named arrays on named coordinates."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Result:
    """``data[name]`` is an array whose axes are named by ``dims[name]``; the names
    that appear in ``coords`` are coordinate axes (x, y or x1, x2, y1, y2).
    ``members`` holds one Result per sweep value, keyed ``KEY=VALUE``."""

    kind: str
    data: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)
    coords: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    case_text: str = ""
    members: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def add(self, name: str, array, dims: tuple) -> None:
        array = np.asarray(array)
        if array.ndim != len(dims):
            raise ValueError(f"{name}: {array.ndim} axes but dims {dims}")
        self.data[name] = array
        self.dims[name] = tuple(dims)
