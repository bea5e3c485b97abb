"""What ``hjb show`` prints and ``hjb plot`` draws: each kind's headline and picture, from the registry."""
from __future__ import annotations

from ..output.figures import figure, save_figure
from ..output.rates import is_refinement, refinement, richardson_lines
from ..output.result import Result
from ..output.summary import describe as describe_with
from .registry import KINDS


def _spec(result: Result):
    return KINDS.get(result.kind)


def check_contents(result: Result, path: str) -> None:
    """InputError unless a file claiming a kind holds that kind's datasets."""
    spec = _spec(result)
    if spec is not None:
        spec.check_contents(result, path)


def describe(result: Result) -> list:
    """Every line ``hjb show`` prints: the generic description, the kind's headline numbers and,
    for a refinement study, Richardson extrapolation in h with its error estimate."""
    spec = _spec(result)
    lines = describe_with(result, spec.headline if spec is not None else None)
    if spec is not None and is_refinement(result) and spec.datasets:
        lines.extend(richardson_lines(result, spec.datasets[0], spec.reference))
    return lines


def draw_function(result: Result):
    """What draws ``result``: the refinement study for a sweep over grid point counts (errors
    against h, the kind's exact ``reference`` when it has one), else the kind's own picture."""
    spec = _spec(result)
    if spec is not None and is_refinement(result) and spec.datasets:
        name, reference = spec.datasets[0], spec.reference
        return lambda fig, res: refinement(fig, res, name, reference)
    return spec.plot if spec is not None else None


def picture(result: Result):
    """The natural picture of ``result`` (a matplotlib Figure): the kind's own, else the generic one."""
    return figure(result, draw_function(result))


def save_picture(result: Result, path, force: bool = False) -> str:
    """Draw the natural picture of ``result`` and write it atomically (format from the extension)."""
    return save_figure(result, path, force=force, draw=draw_function(result))
