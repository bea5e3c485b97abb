"""Closed forms for the quadratic loss f(y) = a/2 |y - c|^2 (SPEC section 9).

The Gibbs measure mu_x is Gaussian, N(m(x), I/(a + gamma)) with
m(x) = (a c + gamma x)/(a + gamma); so (x - Y) . p ~ N(z . p, |p|^2/(a + gamma)),
z = a (x - c)/(a + gamma), and

    H-bar(x, p) = gamma E[((x - Y) . p)^+] = gamma ( mu Phi(mu/s) + s phi(mu/s) ),
    A+(x) = E[(x - Y)^+],  A-(x) = E[(Y - x)^+]                                  (d = 1),
    u(x, t) = a |x - c|^2 / (2 (1 + a t)) + (d / (2 beta)) log(1 + a t)          (Cole-Hopf),
    prox_{tf}(x) = (x + a t c)/(1 + a t)                                          (Hopf-Lax).
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr


def gaussian_positive_part(mean, sd):
    """E[Z^+] for Z ~ N(mean, sd^2): mean Phi(mean/sd) + sd phi(mean/sd)."""
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    r = mean / sd
    return mean * ndtr(r) + sd * np.exp(-0.5 * r * r) / np.sqrt(2.0 * np.pi)


def gibbs_mean(a: float, c, gamma: float, x) -> np.ndarray:
    """m(x) = (a c + gamma x)/(a + gamma), the mean of mu_x (rows of x)."""
    return (a * np.asarray(c, float) + gamma * np.asarray(x, float)) / (a + gamma)


def gibbs_variance(a: float, gamma: float) -> float:
    """The variance 1/(a + gamma) of each component of mu_x."""
    return 1.0 / (a + gamma)


def quadratic_hbar(a: float, c, gamma: float, x, p) -> np.ndarray:
    """H-bar(x_i, p_i) in any d: x and p of shape (..., d) (broadcast together), result (...)."""
    x, p = np.asarray(x, float), np.asarray(p, float)
    c = np.broadcast_to(np.asarray(c, float), x.shape[-1:])
    mean = np.sum((x - gibbs_mean(a, c, gamma, x)) * p, axis=-1)
    sd = np.linalg.norm(p, axis=-1) * np.sqrt(gibbs_variance(a, gamma))
    return gamma * gaussian_positive_part(mean, sd)


def quadratic_a_plus_minus(a: float, c: float, gamma: float, x):
    """(A+(x), A-(x)) in d = 1: the averaged speeds gamma A+ (down) and gamma A- (up)."""
    x = np.asarray(x, float)
    z = x - gibbs_mean(a, c, gamma, x)
    s = np.sqrt(gibbs_variance(a, gamma))
    return gaussian_positive_part(z, s), gaussian_positive_part(-z, s)


def quadratic_bang_bang_velocity(a: float, c, gamma: float, x, theta) -> np.ndarray:
    """The averaged velocity of the extended control of direction theta (unit), U = [0, 1]:
    gamma E[(Y - x) 1{(Y - x) . theta < 0}] for Y ~ mu_x.  With D = Y - x = u theta + D', u =
    D . theta ~ N(mu . theta, s^2) independent of D' (mean mu' = mu - (mu . theta) theta):
    gamma ( -E[(-u)^+] theta + Phi(-mu . theta / s) mu' ).  x (..., d), theta (d,)."""
    x, theta = np.asarray(x, float), np.asarray(theta, float)
    mean = gibbs_mean(a, np.broadcast_to(np.asarray(c, float), x.shape[-1:]), gamma, x) - x
    s = np.sqrt(gibbs_variance(a, gamma))
    along = mean @ theta
    across = mean - along[..., None] * theta
    return gamma * (-gaussian_positive_part(-along, s)[..., None] * theta + ndtr(-along / s)[..., None] * across)


def quadratic_cole_hopf(a: float, c, beta: float, x, t: float) -> np.ndarray:
    """u(x, t) = a |x - c|^2 / (2 (1 + a t)) + (d / (2 beta)) log(1 + a t) at points x (..., d)."""
    x = np.asarray(x, float)
    d = x.shape[-1]
    return a * np.sum((x - c) ** 2, axis=-1) / (2.0 * (1.0 + a * t)) + d / (2.0 * beta) * np.log1p(a * t)


def quadratic_prox(a: float, c, x, t: float) -> np.ndarray:
    """prox_{tf}(x) = (x + a t c)/(1 + a t) (then u is the Cole-Hopf form without its log term)."""
    return (np.asarray(x, float) + a * t * np.asarray(c, float)) / (1.0 + a * t)
