"""Confidence intervals of Monte Carlo estimates: means (normal approximation), proportions
(Wilson), and exit times of which some are censored (paths that never left)."""
from __future__ import annotations

from statistics import NormalDist

import numpy as np


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def mean_interval(samples, level: float = 0.95) -> tuple:
    """(mean, half-width of the normal ``level`` confidence interval); NaNs for no sample."""
    samples = np.asarray(samples, float)
    if samples.size == 0:
        return float("nan"), float("nan")
    half = _z(level) * samples.std(ddof=1) / np.sqrt(samples.size) if samples.size > 1 else float("nan")
    return float(samples.mean()), float(half)


def wilson(successes: int, trials: int, level: float = 0.95) -> tuple:
    """Wilson's ``level`` interval (low, high) for a fraction: honest at 0 and 1 too."""
    z, n = _z(level), float(trials)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def exit_statistics(times: np.ndarray, cap: float, level: float = 0.95, unit: str = "iteration") -> dict:
    """Means with ``level`` intervals of first-exit times (NaN: never left before ``cap``).

    ``mean_exit_{unit}`` is over the paths that left; ``censored`` counts the others,
    and ``mean_exit_{unit}_lower_bound`` = mean of min(T, cap) over all paths."""
    times = np.asarray(times, float)
    left = np.isfinite(times)
    mean, half = mean_interval(times[left], level)
    low, high = wilson(int(left.sum()), times.size, level)
    return {f"mean_exit_{unit}": mean, f"mean_exit_{unit}_half_width": half, "exit_fraction": float(left.mean()),
            "exit_fraction_low": low, "exit_fraction_high": high, "censored": int((~left).sum()),
            f"mean_exit_{unit}_lower_bound": float(np.where(left, times, cap).mean()), "confidence": level}
