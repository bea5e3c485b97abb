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
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BAND = (0.8, 1.5)
MIB = 2.0**20

Q1 = {"dim": 1, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}}
Q2 = {"dim": 2, "gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": [0.5, 0.0]}}
#: A steep bowl: f rises by 1000 over [-5, 5]^2, so most nodes' averages are summed directly.
STEEP2 = {"dim": 2, "gamma": 5.0, "loss": {"name": "quadratic", "a": 40.0, "c": [0.0, 0.0]}}
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


def effective(n, d=1, kind="effective", steep=False):
    if steep:
        return {"kind": kind, "model": STEEP2, "grid": {"x": _box(-5.0, 5.0, n, d)}, "solve": {"T": 0.5}}
    return {"kind": kind, "model": Q1 if d == 1 else Q2, "grid": {"x": _box(-2.0, 2.0, n, d)}, "solve": {"T": 0.5}}


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


def sde(paths, d=1, feedback=False):
    solve = {"x0": [-1.0] * d if d > 1 else -1.0, "T": 0.05, "eps": 0.1, "paths": paths}
    if feedback:                 # u* from an eps_hjb result written before the measurement
        solve.update(control="feedback", value_file=os.path.join(tempfile.gettempdir(), f"bench_memory_{d}.h5"))
    return {"kind": "sde", "model": Q1 if d == 1 else Q2, "solve": solve}


def _value_file(case: dict) -> None:
    """Write the eps_hjb result (with snapshots) that a feedback case reads."""
    import hjb
    from hjb.runner.case import case_from_dict
    d = case["model"]["dim"]
    value = eps_hjb(201 if d == 1 else 15, d, snapshots=20)
    value["solve"].update(T=case["solve"]["T"], eps=case["solve"]["eps"])
    hjb.save(hjb.run(case_from_dict(value)), case["solve"]["value_file"], force=True)


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


def fokker_planck(n, d=2, separable=False):
    model = {"dim": d, "loss": {"name": "double_well"}} if d == 1 or separable else WN2
    return {"kind": "fokker_planck", "model": model, "grid": {"x": _box(-3.0, 3.0, n, d)},
            "solve": {"beta": 2.0, "times": [0.1, 0.5, 1.0], "x0": [-1.0] * d if d > 1 else -1.0}}


def measurements(quick: bool) -> list:
    """(kind, size label, case, warm-up case) for every measurement."""
    if quick:
        return [("eps_hjb", "201²", eps_hjb(201), eps_hjb(21)),
                ("cell", "10⁴ direct", cell(1e4, "direct"), cell(500, "direct")),
                ("hopf_lax", "10⁴ exact, d = 1", hopf_lax(10_001, "exact", 1), hopf_lax(11, "exact", 1)),
                ("sde", "10⁵ paths", sde(100_000), sde(100)),
                ("sgd", "10⁵ paths, exits", sgd(100_000, 1, 1.5), sgd(100, 1, 1.5))]
    return [("eps_hjb", "801²", eps_hjb(801), eps_hjb(21)),
            ("eps_hjb", "1601²", eps_hjb(1601), eps_hjb(21)),
            ("eps_hjb", "801², 40 snapshots", eps_hjb(801, snapshots=40), eps_hjb(21, snapshots=3)),
            ("eps_hjb", "25⁴", eps_hjb(25, 2), eps_hjb(5, 2)),
            ("eps_hjb", "41⁴", eps_hjb(41, 2), eps_hjb(5, 2)),
            ("effective", "10⁴, d = 1", effective(10_001), effective(11)),
            ("effective", "201², d = 2 (correlations)", effective(201, 2), effective(5, 2)),
            ("effective", "101², d = 2, steep (direct sums)", effective(101, 2, steep=True), effective(5, 2)),
            ("egd", "2·10⁴, d = 1", effective(20_001, kind="egd"), effective(11, kind="egd")),
            ("hbar", "2000 points, quadrature, d = 2", hbar(2000, "quadrature", 2), hbar(2, "quadrature", 2)),
            ("hbar", "4 points, markov, d = 2", hbar(4, "markov", 2), hbar(1, "markov")),
            ("hbar", "2 points, cell, d = 2", hbar(2, "cell", 2), hbar(1, "cell")),
            ("cell", "2.5·10⁵ direct", cell(2.5e5, "direct"), cell(500, "direct")),
            ("cell", "10⁶ direct", cell(1e6, "direct"), cell(500, "direct")),
            ("cell", "10⁶ iterative", cell(1e6, "iterative"), cell(5000, "iterative")),
            ("viscous_hj", "301²", viscous(301), viscous(11)),
            ("viscous_hj", "501²", viscous(501), viscous(11)),
            ("viscous_hj", "201², Cole-Hopf", viscous(201, reference=True), viscous(11, reference=True)),
            ("viscous_hj", "2001, d = 1, Cole-Hopf", viscous(2001, 1, True), viscous(11, 1, True)),
            ("hopf_lax", "10⁵ exact, d = 1", hopf_lax(100_001, "exact", 1), hopf_lax(11, "exact", 1)),
            ("hopf_lax", "10⁶ exact, d = 1", hopf_lax(1_000_001, "exact", 1), hopf_lax(11, "exact", 1)),
            ("hopf_lax", "61² exact", hopf_lax(61, "exact"), hopf_lax(11, "exact")),
            ("hopf_lax", "701² godunov", hopf_lax(701, "godunov"), hopf_lax(11, "godunov")),
            ("sde", "10⁶ paths", sde(1_000_000), sde(100)),
            ("sde", "10⁶ paths, d = 2", sde(1_000_000, 2), sde(100, 2)),
            ("sde", "10⁶ paths, feedback", sde(1_000_000, feedback=True), sde(100, feedback=True)),
            ("sde", "3·10⁵ paths, feedback, d = 2", sde(300_000, 2, True), sde(100, 2, True)),
            ("sgd", "10⁶ paths, d = 2", sgd(1_000_000), sgd(100)),
            ("sgd", "10⁶ paths, exits, d = 1", sgd(1_000_000, 1, 1.5), sgd(100, 1, 1.5)),
            ("sgd", "10⁶ paths, exits, d = 2", sgd(1_000_000, 2, 1.5), sgd(100, 2, 1.5)),
            ("exit_time", "501² box", exit_time(501), exit_time(21)),
            ("exit_time", "1001² box", exit_time(1001), exit_time(21)),
            ("exit_time", "1201² ball, direct", exit_time(1201, 3.0), exit_time(41, 3.0)),
            ("exit_time", "1201² ball, iterative", exit_time(1201, 3.0, "iterative"), exit_time(41, 3.0, "iterative")),
            ("fokker_planck", "10⁵, d = 1 (80 frames)", fokker_planck(100_001, 1), fokker_planck(101, 1)),
            ("fokker_planck", "301², non-reversible", fokker_planck(301), fokker_planck(21)),
            ("fokker_planck", "401², reversible", fokker_planck(401, separable=True),
             fokker_planck(21, separable=True))]


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
    inside = 0
    for i, (kind, label, case, _) in enumerate(measurements(args.quick)):
        if args.only and kind not in args.only:
            continue
        if "value_file" in case["solve"]:
            _value_file(case)                             # here, not in the measured process
        cmd = [sys.executable, os.path.abspath(__file__), "--child", str(i)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            table.add(kind, label, float("nan"), float("nan"), float("nan"), f"failed: {tail[:60]}", float("nan"))
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        ratio = row["estimate"] / row["measured"] if row["measured"] > 0 else float("nan")
        verdict = "ok" if BAND[0] <= ratio <= BAND[1] else ("no estimate" if ratio != ratio else "OUT")
        table.add(kind, label, f"{row['estimate'] / MIB:,.0f}", f"{row['measured'] / MIB:,.0f}", f"{ratio:.2f}",
                  verdict, f"{row['wall']:.1f}")
        inside += verdict == "ok"
        print(f"{kind:14s} {label:28s} estimate {row['estimate'] / MIB:9.1f} MiB  measured "
              f"{row['measured'] / MIB:9.1f} MiB  ratio {ratio:5.2f}  {row['wall']:6.1f} s", file=sys.stderr)
    print(table.to_markdown())
    print(f"\n{inside} of {len(table.rows)} estimates within {BAND[0]:g} <= estimate/measured <= {BAND[1]:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
