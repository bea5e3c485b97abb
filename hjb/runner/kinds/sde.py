"""Kind ``sde``: Euler-Maruyama paths of (S_eps) or of (CS_eps) under the optimal feedback
(SPEC sections 6 and 10).  Stores X_T and g(X_T) of every path; for control "none"
(u = 1) also the entropic gradient descent X-hat(T) from x0 (attribute x_hat_T).
"""
from __future__ import annotations

import os

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

import numpy as np

from ...errors import InputError
from ...limits import Estimate
from ...losses import make_loss
from ...output.hdf5 import load
from ...output.plots import members, pretty
from ...output.rates import loglog_rate
from ...output.result import Result
from ...output.summary import fmt
from ...points import as_point
from ...stochastic.feedback import FeedbackControl, path_memory as feedback_memory, table_memory
from ...stochastic.two_scale import (RESOLVE, check_step, entropic_gradient_descent, fast_time_scale,
                                    memory_estimate as path_memory, simulate)
from ..build import build_model
from ..kind import KindSpec
from ..schema import Key, at_least, between, one_of, positive, positive_within

#: Default dt as a fraction of the fast time scale eps / (gamma + Lip grad f).
DEFAULT_DT_FRACTION = 0.1


def _point(data, name):
    return as_point(data["solve"][name], data["model"]["dim"], f"solve.{name}")


def load_value(path: str, key: str = "solve.value_file"):
    """Read an ``eps_hjb`` result with time snapshots, with errors naming ``key``."""
    try:
        result = load(path)
    except InputError as exc:
        raise InputError(key, f"'{path}': {exc.message}") from None
    if result.kind != "eps_hjb":
        raise InputError(key, f"'{path}' holds a '{result.kind}' result, not an eps_hjb one")
    if result.members:
        raise InputError(key, f"'{path}' is a sweep ({', '.join(result.members)}); give a single eps_hjb run")
    if "snapshots" not in result.data or "time" not in result.coords:
        raise InputError(key, f"'{path}' holds no time snapshots; rerun it with solve.snapshots = 50 (say)")
    snapshots = result["snapshots"]
    if snapshots.dtype.kind != "f" or not np.all(np.isfinite(snapshots)):
        raise InputError(key, f"'{path}': its snapshots are not all finite numbers (a failed or foreign run)")
    return result


def _feedback(data, model):
    s = data["solve"]
    path = s.get("value_file")
    if not path:
        raise InputError("solve.value_file", "control = 'feedback' needs the eps_hjb result to read u* from")
    if not os.path.exists(path):
        raise InputError("solve.value_file", f"'{path}' not found")
    value = load_value(path)
    stored_eps, stored_T = float(value.attrs.get("eps", np.nan)), float(value.attrs.get("T", np.nan))
    if not np.isclose(stored_eps, s["eps"], rtol=1e-12):
        raise InputError("solve.eps", f"= {s['eps']:g} but '{path}' was computed for eps = {stored_eps:g}")
    if not np.isclose(stored_T, s["T"], rtol=1e-12):
        raise InputError("solve.T", f"= {s['T']:g} but '{path}' was computed for T = {stored_T:g}")
    try:
        stored_model = tomllib.loads(value.case_text).get("model")
    except tomllib.TOMLDecodeError:
        stored_model = None
    if not isinstance(stored_model, dict):
        # without the [model] it was computed for, the feedback could belong to another model
        raise InputError("solve.value_file", f"'{path}' does not record the [model] it was computed for "
                         "(no readable 'case' attribute); rerun the eps_hjb case")
    try:
        differs = _normal(stored_model) != _normal(data["model"])
    except (TypeError, ValueError, InputError):
        differs = True
    if differs:
        raise InputError("solve.value_file", f"'{path}' was computed for a different [model]: {stored_model}")
    return FeedbackControl.from_result(model, value)


def _normal(model_table):
    """A [model] table with every default filled (the loss's too), for comparison."""
    out = {"dim": 1, "controls": [0.0, 1.0], **model_table}
    out["controls"] = [float(c) for c in out["controls"]]
    out["gamma"] = float(out.get("gamma", np.nan))
    loss = dict(out.get("loss", {}))
    name = loss.pop("name", "")
    if ":" not in name:
        params = make_loss(name, out["dim"], **loss).params
        loss = {k: np.round(np.asarray(v, float), 12).tolist() for k, v in params.items()}
    out["loss"] = {"name": name, **loss}
    return out


def _check(data):
    """Cross-key checks before anything runs: the points, dt against eps, the value file."""
    import warnings
    s = data["solve"]
    _point(data, "x0")
    if "y0" in s:
        _point(data, "y0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(data)
    if "dt" in s:
        check_step(model, s["eps"], s["dt"])
    if s["control"] == "feedback":
        _feedback(data, model)
    elif "value_file" in s:
        raise InputError("solve.value_file", "is read only with control = 'feedback'")


def run(data, on_step):
    s = data["solve"]
    model = build_model(data)
    x0 = _point(data, "x0")
    y0 = _point(data, "y0") if "y0" in s else x0
    dt = s.get("dt", DEFAULT_DT_FRACTION * fast_time_scale(model, s["eps"]))
    control = _feedback(data, model) if s["control"] == "feedback" else 1.0
    run = simulate(model, x0, y0, s["T"], s["eps"], dt, s["paths"], control, seed=s["seed"], on_step=on_step)
    g = model.g(run.X_T)
    d = model.dim
    shape = ("path",) if d == 1 else ("path", "component")
    flat = (lambda a: a[:, 0]) if d == 1 else (lambda a: a)
    result = Result("sde", attrs={
        "eps": s["eps"], "T": s["T"], "dt": run.dt, "steps": run.steps, "paths": s["paths"], "seed": s["seed"],
        "control": s["control"], "mean_g_X_T": float(np.mean(g)),
        "stderr_g_X_T": float(np.std(g, ddof=1) / np.sqrt(len(g))) if len(g) > 1 else None,
        "dt_over_fast_time_scale": run.dt / fast_time_scale(model, s["eps"]), "resolve_bound": RESOLVE})
    result.add("X_T", flat(run.X_T), shape)
    result.add("Y_T", flat(run.Y_T), shape)
    result.add("Y_mean", flat(run.Y_mean), shape)       # the Entropy-SGD average of the fast iterates
    result.add("g_X_T", g, ("path",))
    if s["control"] == "none":
        x_hat = entropic_gradient_descent(model, x0, s["T"])
        result.attrs["x_hat_T"] = float(x_hat[0]) if d == 1 else x_hat
        sq = np.sum((run.X_T - x_hat) ** 2, axis=-1)
        result.attrs["mean_square_deviation"] = float(np.mean(sq))
        result.attrs["stderr_square_deviation"] = float(np.std(sq, ddof=1) / np.sqrt(len(sq))) if len(sq) > 1 else None
    return result


def picture(fig, result: Result):
    """The histogram of X_T per member (the entropic gradient descent X-hat_T dashed when stored)
    and, for an eps sweep with u = 1, E|X_T - X-hat_T|^2 against eps (Theorem 1) with its rate."""
    entries = members(result)
    msd = [sub.attrs.get("mean_square_deviation") for _, sub in entries]
    trend = len(entries) > 1 and all(isinstance(m, (int, float)) for m in msd)
    axes = np.atleast_1d(fig.subplots(1, 1 + trend))
    ax = axes[0]
    for k, (label, sub) in enumerate(entries):
        X = sub["X_T"]
        X = X[:, None] if X.ndim == 1 else X
        text = pretty(label)
        if "g_X_T" in sub.data:
            text = f"{text}: $E\\,g(X_T) = {np.mean(sub['g_X_T']):.4g}$".lstrip(": ")
        if X.shape[1] == 1:
            ax.hist(X[:, 0], bins="auto", density=True, histtype="step", lw=1.5, color=f"C{k}", label=text)
            ax.set(xlabel="$X_T$", ylabel="density")
        elif k == len(entries) - 1:
            mesh = ax.hist2d(X[:, 0], X[:, 1], bins=60, density=True, cmap="viridis")[-1]
            fig.colorbar(mesh, ax=ax, label="density of $X_T$")
            ax.set(xlabel="$X_{T,1}$", ylabel="$X_{T,2}$")
            ax.set_title(text, fontsize="medium")
        if "x_hat_T" in sub.attrs and k == 0:
            hat = np.ravel(sub.attrs["x_hat_T"]).astype(float)
            label_hat = r"$\hat{X}_T$ (entropic gradient descent)"
            if X.shape[1] == 1:
                ax.axvline(hat[0], color="k", ls="--", label=label_hat)
            else:
                ax.plot(hat[0], hat[1], "w*", ms=12, mec="k", label=label_hat)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    if trend:
        eps = np.array([float(sub.attrs.get("eps", np.nan)) for _, sub in entries])
        err = [sub.attrs.get("stderr_square_deviation") for _, sub in entries]
        axes[1].errorbar(eps, msd, yerr=[2 * e if isinstance(e, (int, float)) else 0.0 for e in err], fmt="none",
                         ecolor="gray", capsize=3)
        loglog_rate(axes[1], eps, msd, r"$E|X_T - \hat{X}_T|^2$ ($\pm 2$ standard errors)", what="rate")
        axes[1].set(xlabel=r"$\varepsilon$", ylabel=r"$E|X_T - \hat{X}_T|^2$",
                    title=r"Theorem 1: $X^\varepsilon_T \to \hat{X}_T$")
        axes[1].legend(fontsize="small")


def headline(result: Result) -> list:
    lines = []
    if "g_X_T" in result.data:
        g = result["g_X_T"]
        half = 1.96 * np.std(g, ddof=1) / np.sqrt(len(g)) if len(g) > 1 else float("nan")
        lines.append(f"E g(X_T) = {np.mean(g):.6g} +- {half:.2g} (95% CI, {len(g)} paths)")
    if "X_T" in result.data:
        lines.append(f"mean X_T = {fmt(np.round(np.mean(result['X_T'], axis=0), 6).tolist())}")
    if "x_hat_T" in result.attrs:
        lines.append(f"entropic gradient descent x_hat_T = {fmt(result.attrs['x_hat_T'])}")
    return lines


def _stored_values(path) -> int:
    """Numbers in the ``snapshots`` of an eps_hjb result file, read from its header (0 if unreadable)."""
    import h5py
    found = []
    try:
        with h5py.File(path, "r") as fh:
            fh.visititems(lambda name, item: found.append(item.size) if isinstance(item, h5py.Dataset)
                          and name.rsplit("/", 1)[-1] == "snapshots" else None)
    except (OSError, ValueError, TypeError):
        return 0
    return int(sum(found))


def memory(data) -> Estimate:
    """The paths; with the feedback, the stored result read in, its D_x V table and one evaluation."""
    s, d = data["solve"], data["model"]["dim"]
    need = path_memory(s["paths"], d)
    if s["control"] == "feedback" and s.get("value_file"):
        need += 8.0 * _stored_values(s["value_file"]) + table_memory(_stored_values(s["value_file"]), d) \
            + feedback_memory(s["paths"], d)
    return Estimate(need, f"{s['paths']:,} paths", "solve.paths")


SPECS = [KindSpec("sde", datasets=("X_T", "g_X_T"), check=_check, runner=run, plot=picture, headline=headline,
                  memory=memory, solve={
    "x0": Key((int, float, list), required=True),
    "y0": Key((int, float, list)),
    "T": Key(float, required=True, check=positive),
    "eps": Key(float, required=True, check=positive_within(1e-12, 1e6), sweep=True),
    "paths": Key(int, default=1000, check=at_least(1)),
    "dt": Key(float, check=positive),
    "seed": Key(int, default=0, check=between(0, 2**63 - 1)),
    "control": Key(str, default="none", check=one_of("none", "feedback")),
    "value_file": Key(str),
})]
