"""Loss functions f: R^d -> R with their gradient (SPEC section 8): the registry of the shipped
losses (``shipped``, ``rugged``), user losses ``"package.module:function"``, and :func:`make_loss`.

Arrays follow one convention throughout hjb: points carry their d components in
the last axis, so ``value(y)`` maps shape (..., d) to (...) and ``grad(y)`` maps
(..., d) to (..., d).
"""
from __future__ import annotations

import importlib
import inspect
import re

import numpy as np

from ..errors import InputError, did_you_mean
from .base import MIN_POSITIVE, Loss
from .rugged import rugged
from .shipped import double_well, quadratic, saddle_well, sharp_flat, tilted_cosine, wide_narrow

__all__ = ["Loss", "LOSSES", "MIN_POSITIVE", "make_loss", "loss_parameters"]


LOSSES = {
    "quadratic": quadratic,
    "wide_narrow": wide_narrow,
    "tilted_cosine": tilted_cosine,
    "double_well": double_well,
    "saddle_well": saddle_well,
    "sharp_flat": sharp_flat,
    "rugged": rugged,
}


def loss_parameters(name: str) -> list[str]:
    """The parameter names a shipped loss accepts (besides ``dim``)."""
    return [p for p in inspect.signature(LOSSES[name]).parameters if p != "dim"]


#: The shape of a user loss reference, checked before anything is imported.
_REFERENCE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")


def _user_loss(reference: str, dim: int, params: dict) -> Loss:
    """A loss named ``"package.module:function"``.

    The function is called as ``function(dim=d, **params)`` and returns a
    :class:`Loss`, or a tuple ``(f, grad)`` / ``(f, grad, lip)`` of callables
    following the (..., d) array convention.
    """
    if not _REFERENCE.fullmatch(reference):
        raise InputError("model.loss.name", f"must be a shipped loss or 'package.module:function' (Python "
                         f"identifiers), got {reference!r}")
    module_name, _, attr = reference.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError("model.loss.name", f"cannot import '{reference}': {exc}") from None
    try:
        made = func(dim=dim, **params)
    except TypeError as exc:
        raise InputError("model.loss", f"'{reference}' rejected its parameters: {exc}") from None
    if isinstance(made, Loss):
        return made
    if isinstance(made, tuple) and len(made) in (2, 3) and all(callable(m) for m in made[:2]):
        lip = float(made[2]) if len(made) == 3 else np.inf
        return Loss(reference, dim, made[0], made[1], lip=lip, lower=_sampled_lower(made[0], dim),
                    params=dict(params))
    raise InputError("model.loss.name", f"'{reference}' must return a hjb.Loss or (f, grad[, lip])")


def _sampled_lower(f, dim: int, radius: float = 10.0) -> float:
    """A lower bound of a user loss estimated on a coarse grid (used only to size windows)."""
    axis = np.linspace(-radius, radius, max(int(round(2e4 ** (1.0 / dim))), 3))
    pts = np.stack(np.meshgrid(*([axis] * dim), indexing="ij"), axis=-1)
    return float(np.min(f(pts)))


def make_loss(name: str, dim: int = 1, **params) -> Loss:
    """Build a shipped loss by name, or a user loss ``"package.module:function"`` (SPEC section 8).

    Parameters
    ----------
    name : str
        A shipped loss (see Notes), or ``"package.module:function"``: that
        function is called as ``function(dim=d, **params)`` and returns a
        :class:`hjb.Loss`, or a tuple ``(f, grad)`` / ``(f, grad, lip)`` of
        callables following the (..., d) -> (...) / (..., d) convention.
    dim : int, default 1
        The dimension d of y.
    **params
        The loss's parameters (see Notes; the defaults apply to those not
        given).  A centre is a number (all d components) or a list of d numbers.

    Returns
    -------
    Loss
        f (``value``, (..., d) -> (...)), grad f (``grad``, (..., d) -> (..., d)),
        the bound ``lip`` on Lip(grad f), a lower bound ``lower`` and a length ``scale``.

    Raises
    ------
    InputError
        An unknown loss or parameter (with a did-you-mean and the choices), a
        bad parameter value, or a user loss that cannot be imported.

    Notes
    -----
    The shipped losses, with their parameters and defaults (written from the
    registry ``hjb.losses.LOSSES`` when the module is imported, so the list is
    complete; each formula is the loss function's docstring in :mod:`hjb.losses`):

    {catalogue}

    Example
    -------
    >>> import numpy as np, hjb
    >>> f = hjb.make_loss("quadratic", a=2.0, c=0.5)
    >>> f(np.array([[0.0], [1.5]]))
    array([0.25, 1.  ])
    >>> g = hjb.make_loss("wide_narrow", dim=2, narrow_center=[1.5, 0.0])
    >>> g.dim, g.params["narrow_center"]
    (2, array([1.5, 0. ]))
    >>> hjb.make_loss("quadratic", aa=1.0)
    Traceback (most recent call last):
    ...
    hjb.errors.InputError: model.loss.aa: unknown parameter of loss 'quadratic' (did you mean 'a'?); it takes: a, c
    """
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InputError("model.dim", f"must be a positive integer, got {dim!r}")
    if ":" in name:
        return _user_loss(name, int(dim), params)
    if name not in LOSSES:
        raise InputError("model.loss.name", f"unknown loss '{name}'{did_you_mean(name, LOSSES)}; "
                         f"shipped: {', '.join(LOSSES)} or 'package.module:function'")
    allowed = loss_parameters(name)
    for key in params:
        if key not in allowed:
            raise InputError(f"model.loss.{key}", f"unknown parameter of loss '{name}'"
                             f"{did_you_mean(key, allowed)}; it takes: {', '.join(allowed) or 'none'}")
    try:
        return LOSSES[name](dim=int(dim), **params)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("model.loss", f"bad parameter for '{name}': {exc}") from None


def _catalogue() -> str:
    """The shipped losses for make_loss's docstring: name, parameters with defaults, formula."""
    entries = []
    for name, func in LOSSES.items():
        defaults = [f"{p.name}={p.default!r}" for p in inspect.signature(func).parameters.values()
                    if p.name != "dim"]
        paragraphs = (inspect.getdoc(func) or "").split("\n\n")
        summary = paragraphs[:2] if paragraphs[0].endswith(":") else paragraphs[:1]   # with its formula
        text = "\n\n".join(summary).replace("\n", "\n        ").replace("\n        \n", "\n\n")
        entries.append(f"``{name}`` ({', '.join(defaults) or 'no parameters'})\n        {text}")
    return "\n\n    ".join(entries)


# Keep this the last statement: the docstring lists every loss registered above.
if make_loss.__doc__:                               # (None under python -OO)
    make_loss.__doc__ = make_loss.__doc__.replace("{catalogue}", _catalogue())
