"""The runner: a case in, a :class:`hjb.Result` out (one solve, or one per sweep member).

Every member is an independent solve of the same runner on its own case data,
so the result does not depend on how the members were scheduled: serially (the
default), on a local Dask cluster (``workers >= 2`` processes, one thread each)
or on an existing cluster (``scheduler`` address) give identical arrays.

Nothing finished is lost: when ``partial`` names a folder (``hjb run`` uses
``OUT.h5.partial/``), each member is written there as soon as it finishes, as
a complete result file of its own.  After an interruption ``resume=True`` keeps
every member file whose stored case text is exactly that member's case, and
computes only the others; the caller removes the folder once the sweep is saved.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import warnings
from typing import Callable, Optional

from ..errors import InputError
from ..limits import check_memory
from ..model import AssumptionWarning
from ..output.hdf5 import FILE_ATTRS, load, save
from ..output.result import Result
from .case import Case
from .dask import each_on_dask, uses_dask
from .environment import run_limits
from .registry import kind_spec
from .sweep import sweep_key, sweep_members
from .validate import resolved_text, validate

log = logging.getLogger("hjb")


def run(case: Case, on_step: Optional[Callable[[int, int], None]] = None, *, workers: Optional[int] = None,
        scheduler: Optional[str] = None, partial: Optional[str] = None, resume: bool = False,
        discard: bool = False) -> Result:
    """Run a case: one solve, or one per entry of a sweep list (SPEC section 10).

    The case is validated first (every error names its dotted key), then solved
    by the runner of its kind (:data:`hjb.KINDS`).  A list in a sweepable
    ``[solve]`` key (``eps``, ``T``, ``t``, ``beta``, ...) or a list of point
    counts runs one solve per value; the members are independent, so the result
    does not depend on how they are scheduled.

    Parameters
    ----------
    case : Case
        From :func:`hjb.load_case` (or ``hjb.runner.case.case_from_dict``).
    on_step : callable, optional
        ``on_step(i, n)``: time steps of a single solve, finished members of a sweep.
    workers : int, optional
        Run a sweep's members on a local Dask cluster of this many processes
        (2 or more); default: serially, in this process.  A single solve never
        starts a cluster.
    scheduler : str, optional
        Run a sweep's members on the Dask scheduler at this address.
    partial : str, optional
        A folder where each finished member is saved at once (``hjb run`` uses
        ``OUT.h5.partial/``).
    resume : bool, default False
        Keep the members in ``partial`` whose stored case is unchanged and
        compute only the others.
    discard : bool, default False
        Delete the members left in ``partial`` instead (without ``resume`` or
        ``discard``, leftover members are an InputError).

    Returns
    -------
    Result
        The kind's datasets and attributes (SPEC section 10); for a sweep, one
        member Result per value in ``members``, keyed ``KEY=VALUE``.
        ``case_text`` holds the case as run.

    Raises
    ------
    InputError
        Anything wrong with the case (one message naming the key).
    NonFiniteError
        A NaN or Inf in a solve.

    Example
    -------
    >>> import hjb
    >>> from importlib.resources import files
    >>> case = hjb.load_case(files("hjb.cases") / "quadratic_value.toml",
    ...                      ["grid.x.points=41", "grid.y.points=41"])
    >>> result = hjb.run(case)
    >>> result.kind, result["value"].shape, result.dims["value"]
    ('eps_hjb', (41, 41), ('x', 'y'))
    >>> sweep = hjb.run(hjb.load_case(files("hjb.cases") / "quadratic_value.toml",
    ...                               ["grid.x.points=41", "grid.y.points=41", "solve.eps=[0.1, 0.01]"]))
    >>> list(sweep.members), sweep.members["eps=0.1"]["value"].shape
    (['eps=0.1', 'eps=0.01'], (41, 41))
    """
    data = validate(case)
    for message in data.pop("_warnings", []):
        warnings.warn(message, AssumptionWarning, stacklevel=2)
    spec = kind_spec(data["kind"])
    members = sweep_members(spec, data)
    if not members:
        log.info("running %s", data["kind"])
        result = run_member(data, on_step)
    else:
        result = run_sweep(case, data, members, on_member=on_step, workers=workers, scheduler=scheduler,
                           partial=partial, resume=resume, discard=discard)
    result.case_text = resolved_text(data)
    return result


def run_member(data: dict, on_step=None) -> Result:
    """One solve from validated data (also what a Dask worker runs), under the run's limits;
    errors about solver arguments are renamed into the case keys they come from."""
    spec = kind_spec(data["kind"])
    start = time.perf_counter()
    with run_limits():
        try:
            check_plan(spec, data)                    # refused before the runner allocates anything
            result = spec.runner(data, on_step)
        except InputError as exc:
            raise spec.in_case_terms(exc) from None
    spec.check_finite_result(result)                  # nothing non-finite leaves with exit code 0
    result.attrs["wall_time"] = time.perf_counter() - start
    log.info("%s solved in %.2f s", data["kind"], result.attrs["wall_time"])
    return result


def check_plan(spec, data: dict) -> None:
    """InputError when the kind's estimate of the solve's peak memory (``spec.memory``) is over the limit."""
    if spec.memory is not None:
        need = spec.memory(data)
        check_memory(need, getattr(need, "what", f"a {spec.name} solve"), key=getattr(need, "key", "grid"))


def solve_member(data: dict):
    """What a Dask worker runs: ``("ok", Result)`` or ``("input", key, message)``.

    An InputError pickles with both fields, but an exception raised in a worker
    crosses the scheduler, which need not import hjb: there it becomes a plain
    Exception wrapping the text (measured with an external LocalCluster), so bad
    input would end as an internal failure.  A returned value passes through intact."""
    try:
        return ("ok", run_member(data))
    except InputError as exc:
        return ("input", exc.key, exc.message)


def _unwrap(outcome) -> Result:
    if outcome[0] == "input":
        raise InputError(outcome[1], outcome[2])
    return outcome[1]


def member_file(partial: str, name: str) -> str:
    return os.path.join(partial, f"{name}.h5")


def discard_partial(partial: Optional[str]) -> None:
    """Remove the folder of finished members (after the sweep is saved)."""
    if partial and os.path.isdir(partial):
        shutil.rmtree(partial)


def _finished(partial: str, members: list, texts: dict) -> dict:
    """Members already in ``partial`` whose stored case is exactly theirs."""
    kept = {}
    for m in members:
        path = member_file(partial, m.name)
        if not os.path.exists(path):
            continue
        try:
            result = load(path)
        except (InputError, OSError) as exc:
            log.warning("ignoring unreadable partial member %s (%s)", path, exc)
            continue
        if result.case_text != texts[m.name]:
            log.warning("recomputing %s: the case changed since it was written", m.name)
            continue
        for key in FILE_ATTRS:
            result.attrs.pop(key, None)
        kept[m.name] = result
    return kept


def run_sweep(case: Case, data: dict, members: list, on_member: Optional[Callable[[int, int], None]] = None,
              workers: Optional[int] = None, scheduler: Optional[str] = None, partial: Optional[str] = None,
              resume: bool = False, discard: bool = False) -> Result:
    """Run ``members`` (from :func:`hjb.runner.sweep.sweep_members`) and collect one group each."""
    spec = kind_spec(data["kind"])
    texts = {m.name: resolved_text(m.data) for m in members}
    done = {}
    if partial and os.path.isdir(partial) and os.listdir(partial):
        if resume:
            done = _finished(partial, members, texts)
            log.info("resuming: %d of %d members kept from %s", len(done), len(members), partial)
        elif discard:
            log.info("discarding the finished members in %s", partial)
            discard_partial(partial)
        else:
            count = sum(name.endswith(".h5") for name in os.listdir(partial))
            raise InputError(partial, f"holds {count} finished member(s) of an interrupted sweep; "
                             "pass --resume to keep them or --force to discard them")
    todo = [m for m in members if m.name not in done]
    total = len(members)

    def finished(name, result):
        done[name] = result
        if partial:
            result.case_text = texts[name]
            save(result, member_file(partial, name), force=True)
        log.info("finished %s (%d of %d)", name, len(done), total)
        if on_member is not None:
            on_member(len(done), total)

    if on_member is not None:
        on_member(len(done), total)
    if todo and uses_dask(workers, scheduler, len(todo)):   # no cluster for a single solve
        each_on_dask(solve_member, {m.name: m.data for m in todo},
                     lambda name, outcome: finished(name, _unwrap(outcome)), workers, scheduler)
    else:
        for member in todo:
            finished(member.name, run_member(member.data))

    result = Result(data["kind"], attrs={"sweep": sweep_key(spec, data), "member_order": "\n".join(texts)})
    for member in members:
        sub = done[member.name]
        sub.case_text = texts[member.name]          # each group is what a single run stores
        sub.attrs["member"] = member.name
        result.members[member.name] = sub
    return result
