"""Benchmark: each kind's memory estimate (``KindSpec.memory``) against the measured peak memory.

For every kind a mid-size case (the solve dominating, ~0.3-2 GB where the kind
allows) runs in a fresh Python process: it imports hjb, builds the case data, runs a
tiny warm-up solve of the same kind (lazy imports, BLAS buffers), resets the kernel's
high-water mark of resident memory (``/proc/self/clear_refs``; else a thread samples
VmRSS every 2 ms), reads VmRSS just before the solve and the peak (VmHWM) after it.
The measured figure is that peak minus the RSS before: the memory the solve itself
took, its result included.  The table gives the estimate, the measurement and their
ratio, "ok" when 0.8 <= ratio <= 1.5 (the band of issue 11: -20 %/+50 %).

    python scripts/bench_memory.py [--quick] [--only KIND ...]

A benchmark reports; it does not judge: the exit code is 0 whatever the ratios.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BAND = (0.8, 1.5)
MIB = 2.0**20

Q1 = {"dim": 1, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}}
Q2 = {"dim": 2, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": [0.5, 0.0]}}
WN2 = {"dim": 2, "loss": {"name": "wide_narrow", "wide_center": [-1.5, 0.0], "narrow_center": [1.5, 0.0],
                          "narrow_width": 0.3}}


def _loss_only(model):
    return {k: v for k, v in model.items() if k != "gamma"}


def _box(lo, hi, n, d):
    return {"lower": [lo] * d, "upper": [hi] * d, "points": [n] * d} if d > 1 else \
        {"lower": lo, "upper": hi, "points": n}


def eps_hjb(n, d=1, snapshots=0):
    model = Q1 if d == 1 else Q2
    return {"kind": "eps_hjb", "model": model, "grid": {"x": _box(-2.0, 2.0, n, d), "y": _box(-2.0, 2.0, n, d)},
            "solve": {"T": 0.5, "eps": 0.01, "snapshots": snapshots}}


def effective(n, kind="effective"):
    return {"kind": kind, "model": Q2, "grid": {"x": _box(-2.0, 2.0, n, 2)}, "solve": {"T": 0.5}}


def hbar(points, method, d=1):
    xs = [[0.01 * i - 1.0] * d if d > 1 else 0.01 * i - 1.0 for i in range(points)]
    return {"kind": "hbar", "model": Q1 if d == 1 else Q2, "solve": {"x": xs, "p": xs, "method": method}}


def cell(unknowns, solver):
    h = 5.0 * (3.14159265 / unknowns) ** 0.5             # pi n^2 / h^2 unknowns on the disc of radius 5
    return {"kind": "cell", "model": Q2, "solve": {"xbar": [0.3, 0.1], "pbar": [1.0, 0.5], "n": 5.0,
                                                   "delta": 1e-4, "h": h, "solver": solver}}


def viscous(n, d=2, reference=False):
    return {"kind": "viscous_hj", "model": _loss_only(Q1 if d == 1 else Q2), "grid": {"x": _box(-3.0, 3.0, n, d)},
            "solve": {"beta": 2.0, "t": 0.5, "reference": reference}}


def hopf_lax(n, method, d=2):
    return {"kind": "hopf_lax", "model": _loss_only(Q1 if d == 1 else Q2), "grid": {"x": _box(-3.0, 3.0, n, d)},
            "solve": {"t": 0.5, "method": method}}


def sde(paths, d=1):
    return {"kind": "sde", "model": Q1 if d == 1 else Q2,
            "solve": {"x0": [-1.0] * d if d > 1 else -1.0, "T": 0.05, "eps": 0.1, "paths": paths}}


def sgd(paths, d=2, exit_radius=None):
    solve = {"x0": [-1.0] * d if d > 1 else -1.0, "eta": 0.1, "iterations": 50, "paths": paths}
    if exit_radius:
        solve["exit_radius"] = exit_radius
    return {"kind": "sgd", "model": {"dim": d, "loss": {"name": "double_well"}}, "solve": solve}


def exit_time(n, radius=None, solver="direct"):
    solve = {"beta": 3.0, "solver": solver}
    if radius:
        solve["radius"] = radius
    return {"kind": "exit_time", "model": WN2, "grid": {"x": _box(-3.0, 3.0, n, 2)}, "solve": solve}


def fokker_planck(n, d=2):
    model = WN2 if d == 2 else {"dim": 1, "loss": {"name": "double_well"}}
    return {"kind": "fokker_planck", "model": model, "grid": {"x": _box(-3.0, 3.0, n, d)},
            "solve": {"beta": 2.0, "times": [0.1, 0.5, 1.0], "x0": [-1.0] * d if d > 1 else -1.0}}


def measurements(quick: bool) -> list:
    """(kind, size label, case, warm-up case) for every measurement."""
    if quick:
        rows = [("eps_hjb", "201²", eps_hjb(201), eps_hjb(21)),
                ("cell", "10⁴ direct", cell(1e4, "direct"), cell(500, "direct")),
                ("sde", "10⁵ paths", sde(100_000), sde(100)),
                ("hopf_lax", "101² exact", hopf_lax(101, "exact"), hopf_lax(11, "exact"))]
    else:
        rows = [("eps_hjb", "801²", eps_hjb(801), eps_hjb(21)),
                ("eps_hjb", "1601²", eps_hjb(1601), eps_hjb(21)),
                ("eps_hjb", "41⁴", eps_hjb(41, 2), eps_hjb(5, 2)),
                ("eps_hjb", "801², 20 snapshots", eps_hjb(801, snapshots=20), eps_hjb(21, snapshots=3)),
                ("effective", "301²", effective(301), effective(11)),
                ("egd", "1001²", effective(1001, "egd"), effective(11, "egd")),
                ("hbar", "2000 points quadrature", hbar(2000, "quadrature", 2), hbar(2, "quadrature", 2)),
                ("hbar", "4 points markov, d = 2", hbar(4, "markov", 2), hbar(1, "markov")),
                ("hbar", "2 points cell, d = 2", hbar(2, "cell", 2), hbar(1, "cell")),
                ("cell", "10⁶ direct", cell(1e6, "direct"), cell(500, "direct")),
                ("cell", "10⁶ iterative", cell(1e6, "iterative"), cell(5000, "iterative")),
                ("cell", "2.5·10⁵ direct", cell(2.5e5, "direct"), cell(500, "direct")),
                ("viscous_hj", "1001²", viscous(1001), viscous(11)),
                ("viscous_hj", "401², Cole-Hopf", viscous(401, reference=True), viscous(11, reference=True)),
                ("hopf_lax", "401² exact", hopf_lax(401, "exact"), hopf_lax(11, "exact")),
                ("hopf_lax", "1001² godunov", hopf_lax(1001, "godunov"), hopf_lax(11, "godunov")),
                ("sde", "10⁶ paths", sde(1_000_000), sde(100)),
                ("sde", "10⁶ paths, d = 2", sde(1_000_000, 2), sde(100, 2)),
                ("sgd", "10⁶ paths, d = 2", sgd(1_000_000), sgd(100)),
                ("sgd", "10⁶ paths, exits", sgd(1_000_000, 1, 1.5), sgd(100, 1, 1.5)),
                ("exit_time", "1001² box", exit_time(1001), exit_time(21)),
                ("exit_time", "1201² ball iterative", exit_time(1201, 3.0, "iterative"),
                 exit_time(41, 3.0, "iterative")),
                ("fokker_planck", "301²", fokker_planck(301), fokker_planck(21)),
                ("fokker_planck", "10⁵ points, d = 1", fokker_planck(100_001, 1), fokker_planck(101, 1))]
    return rows


# ------------------------------------------------------------------ one measurement (child process)

def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


class _Sampler(threading.Thread):
    """The largest VmRSS seen every 2 ms (when the high-water mark cannot be reset)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = _status("VmRSS"), threading.Event()

    def run(self):
        while not self.done.wait(0.002):
            self.peak = max(self.peak, _status("VmRSS"))


def _data(case: dict) -> dict:
    from hjb.runner.case import case_from_dict
    from hjb.runner.validate import validate
    data = validate(case_from_dict(case))
    data.pop("_warnings", None)
    return data


def child(index: int, quick: bool) -> dict:
    import warnings
    warnings.simplefilter("ignore")
    from hjb.runner.registry import kind_spec
    kind, label, case, warm = measurements(quick)[index]
    spec = kind_spec(kind)
    spec.runner(_data(warm), None)                        # warm-up: imports, first-touch buffers
    data = _data(case)
    estimate = float(spec.memory(data)) if spec.memory is not None else float("nan")
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:    # reset VmHWM to the current RSS
            fh.write("5")
        sampler = None
    except OSError:
        sampler = _Sampler()
        sampler.start()
    before = _status("VmRSS")
    start = time.perf_counter()
    result = spec.runner(data, None)
    wall = time.perf_counter() - start
    if sampler is None:
        peak = _status("VmHWM")
    else:
        sampler.done.set()
        sampler.join()
        peak = sampler.peak
    del result
    return {"kind": kind, "size": label, "estimate": estimate, "measured": float(peak - before), "wall": wall,
            "before": float(before)}


# ------------------------------------------------------------------ the table (parent process)

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds (CI)")
    parser.add_argument("--only", nargs="*", default=None, help="only these kinds")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.quick)))
        return 0

    from hjb.output.tables import Table
    table = Table(["kind", "size", "estimate MiB", "measured MiB", "ratio", "band", "wall s"],
                  caption="memory estimate against measured peak RSS increase of the solve")
    for i, (kind, label, _, _) in enumerate(measurements(args.quick)):
        if args.only and kind not in args.only:
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(i)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            table.add(kind, label, float("nan"), float("nan"), float("nan"), f"failed: {tail[:60]}", float("nan"))
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        ratio = row["estimate"] / row["measured"] if row["measured"] > 0 else float("nan")
        verdict = "ok" if BAND[0] <= ratio <= BAND[1] else ("no estimate" if ratio != ratio else "OUT")
        table.add(kind, label, row["estimate"] / MIB, row["measured"] / MIB, ratio, verdict, row["wall"])
        print(f"{kind:14s} {label:28s} estimate {row['estimate'] / MIB:9.1f} MiB  measured "
              f"{row['measured'] / MIB:9.1f} MiB  ratio {ratio:5.2f}  {row['wall']:6.1f} s", file=sys.stderr)
    print(table.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
