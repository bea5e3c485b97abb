"""Validation of a case, before anything is allocated or dispatched.

The common schema (top level, [model], [grid]), the kind's [solve] schema, the
kind's own ``check`` (on every sweep member) and the loss (built once, so an
unknown or unimportable loss fails before a sweep starts).
"""
from __future__ import annotations

import copy
import os
import warnings

from ..errors import InputError, did_you_mean
from ..losses import make_loss
from ..model import AssumptionWarning
from .build import build_loss, build_model
from .case import Case
from .registry import kind_spec
from .schema import MAX_DIM, MODEL, TOP, Key, check_grid_block, check_table, finite_numbers
from .sweep import sweep_assignments, sweep_members


def resolved_text(data: dict) -> str:
    """The TOML text of validated case data as run: every default filled in, the loss with
    every parameter it was built with (a shipped loss's defaults included)."""
    import numpy as np
    import tomli_w
    out = {k: v for k, v in data.items() if not k.startswith("_")}
    loss = out.get("model", {}).get("loss")
    if isinstance(loss, dict) and ":" not in str(loss.get("name", "")):
        try:
            built = make_loss(loss["name"], out["model"].get("dim", 1),
                              **{k: v for k, v in loss.items() if k != "name"})
        except InputError:
            built = None
        if built is not None:
            params = {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in built.params.items()}
            out["model"] = {**out["model"], "loss": {"name": loss["name"], **params}}
    return tomli_w.dumps(out)


def _names_a_file(v):
    return None if v.strip() and not v.endswith(("/", "\\")) else f"must name a file, got {v!r}"


def validate(case: Case) -> dict:
    """Check a case against the common schema and its kind's [solve] schema.

    Returns the validated data (defaults filled in); the loss is built once
    to check it, and any :class:`AssumptionWarning` it raised is kept in
    ``data["_warnings"]`` for :func:`run` to show once."""
    data = check_table("case", case.data, TOP)
    kind = data["kind"]
    spec = kind_spec(kind)
    data = copy.deepcopy(data)
    if os.path.isfile(case.source):
        data["_folder"] = os.path.dirname(os.path.abspath(case.source))    # where a user loss may live
    data["solve"] = check_table("solve", data["solve"], spec.solve)
    data["output"] = check_table("output", data["output"], {"file": Key(str, check=_names_a_file)})
    if "model" not in data:
        raise InputError("model", "missing required table")
    data["model"] = check_table("model", data["model"], spec.model or MODEL)
    dim = data["model"].get("dim", 1)
    if isinstance(dim, int) and dim > MAX_DIM:
        raise InputError("model.dim", f"at most {MAX_DIM} is supported, got {dim}")
    loss = data["model"].get("loss")
    if isinstance(loss, dict):
        if not isinstance(loss.get("name"), str):
            raise InputError("model.loss.name", "missing required key (a shipped loss or 'package.module:function')")
        for name, value in loss.items():
            if name != "name":
                finite_numbers(f"model.loss.{name}", value)
    grids = dict(data.get("grid") or {})
    for name in grids:
        if name not in ("x", "y"):
            raise InputError(f"grid.{name}", f"unknown grid block{did_you_mean(name, ('x', 'y'))}; allowed: x, y")
    for name in spec.grids:
        if name not in grids:
            raise InputError(f"grid.{name}", f"missing: kind '{kind}' needs grid.{name}")
        grids[name] = check_grid_block(name, grids[name], dim)
    data["grid"] = grids
    sweep_assignments(spec, data)                 # one sweep key at a time
    if spec.check is not None:
        # every member, so that a bad sweep value fails before the first solve
        for member in sweep_members(spec, data) or [None]:
            try:
                spec.check(data if member is None else member.data)
            except InputError as exc:
                raise spec.in_case_terms(exc) from None
    if isinstance(loss, dict):
        # Build the loss (and the model, for kinds with the standard [model]) once, so
        # that an unknown or unimportable loss fails here, before any solve starts.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssumptionWarning)
            if spec.model is None:
                build_model(data)
            else:
                build_loss(data)
        data["_warnings"] = [str(w.message) for w in caught if issubclass(w.category, AssumptionWarning)]
    data["_checked"] = True
    return data
