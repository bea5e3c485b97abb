"""Sweeps: one solve per value of a swept key, serially or on Dask, resumable.

Every member is an independent solve of the same runner on its own case
data, so the result does not depend on how the members were scheduled: a
serial run, a local Dask cluster (``workers >= 2`` processes, one thread
each) and an existing cluster (``scheduler`` address) give identical arrays.

Nothing finished is lost: when ``partial`` names a folder (``hjb run`` uses
``OUT.h5.partial/``), each member is written there as soon as it finishes,
as a complete result file of its own (atomically, through :func:`hjb.io.save`).
After an interruption ``resume=True`` keeps every member file whose stored
case text is exactly that member's case, and computes only the others; the
caller removes the folder once the whole sweep is saved.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from typing import Callable, Optional

from .case import Case
from .errors import InputError
from .result import Result

log = logging.getLogger("hjb")

#: Seconds to wait for an existing Dask scheduler.
CONNECT_TIMEOUT = 10


def member_file(partial: str, name: str) -> str:
    return os.path.join(partial, f"{name}.h5")


def discard_partial(partial: Optional[str]) -> None:
    """Remove the folder of finished members (after the sweep is saved)."""
    if partial and os.path.isdir(partial):
        shutil.rmtree(partial)


def _finished(partial: str, members: list, texts: dict) -> dict:
    """Members already in ``partial`` whose stored case is exactly theirs."""
    from .io import load
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
        result.attrs.pop("created", None)
        result.attrs.pop("hjb_version", None)
        kept[m.name] = result
    return kept


def solve_member(data: dict):
    """What a worker runs: ``("ok", Result)``, or ``("input", key, message)`` for an
    :class:`InputError` (which does not survive pickling with its two fields)."""
    import hjb  # noqa: F401  (registers every kind in a fresh worker process)
    from .kinds import run_member
    try:
        return ("ok", run_member(data))
    except InputError as exc:
        return ("input", exc.key, exc.message)


def _unwrap(outcome) -> Result:
    if outcome[0] == "input":
        raise InputError(outcome[1], outcome[2])
    return outcome[1]


def run_sweep(case: Case, data: dict, members: list, on_member: Optional[Callable[[int, int], None]] = None,
              workers: Optional[int] = None, scheduler: Optional[str] = None, partial: Optional[str] = None,
              resume: bool = False, discard: bool = False) -> Result:
    """Run ``members`` (from :func:`hjb.kinds.sweep_members`) and collect one group each."""
    from .io import save
    from .kinds import member_case_text, sweep_key
    texts = {m.name: member_case_text(case, m) for m in members}
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

    def finished(member, result):
        done[member.name] = result
        if partial:
            result.case_text = texts[member.name]
            save(result, member_file(partial, member.name), force=True)
        log.info("finished %s (%d of %d)", member.name, len(done), total)
        if on_member is not None:
            on_member(len(done), total)

    if on_member is not None:
        on_member(len(done), total)
    if todo and (scheduler or min(workers or 1, len(todo)) > 1):   # no cluster for a single solve
        _on_dask(todo, finished, workers, scheduler)
    else:
        from .kinds import run_member
        for member in todo:
            finished(member, run_member(member.data))

    result = Result(data["kind"], attrs={"sweep": sweep_key(data), "member_order": "\n".join(texts)})
    for member in members:
        sub = done[member.name]
        sub.case_text = ""
        sub.attrs["member"] = member.name
        result.members[member.name] = sub
    return result


@contextlib.contextmanager
def dask_client(workers: Optional[int], scheduler: Optional[str], jobs: int):
    """A Dask client: on the scheduler at ``scheduler``, else on a local cluster of
    min(workers, jobs) single-threaded processes (closed on exit)."""
    import dask
    from dask.distributed import Client, LocalCluster
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("--scheduler", f"cannot connect to the Dask scheduler at '{scheduler}': {exc}") from None
    else:
        n = min(int(workers or 1), jobs)
        quiet = logging.ERROR if log.getEffectiveLevel() > logging.DEBUG else logging.INFO
        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers; with the large
        # per-step temporaries of the grid solvers that doubles their run time
        # (measured: 6.2 s against 3.0 s per member), so the workers keep glibc's default.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   silence_logs=quiet)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _on_dask(todo: list, finished: Callable, workers: Optional[int], scheduler: Optional[str]) -> None:
    """Submit every member to Dask and hand each result to ``finished`` as it arrives."""
    from dask.distributed import as_completed
    with dask_client(workers, scheduler, len(todo)) as client:
        log.info("sweep of %d members on Dask (%s)", len(todo), client.scheduler.address)
        token = uuid.uuid4().hex[:8]
        futures = {client.submit(solve_member, m.data, key=f"hjb-{token}-{m.name}", pure=False): m for m in todo}
        for future in as_completed(futures):
            finished(futures[future], _unwrap(future.result()))


def parallel_map(func: Callable, items: list, workers: Optional[int] = None, scheduler: Optional[str] = None) -> list:
    """[func(item) for item in items], on Dask when ``workers >= 2`` or ``scheduler`` is
    given (scripts use it for their studies); the order of the results is that of items."""
    if not items or not (scheduler or min(workers or 1, len(items)) > 1):
        return [func(item) for item in items]
    with dask_client(workers, scheduler, len(items)) as client:
        return client.gather(client.map(func, items, pure=False))
