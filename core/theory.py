"""Infinite-width mean-field theory at initialization (Poole et al. 2016, Schoenholz et al. 2017):
the fixed point q*, chi_1, the depth scale xi, and per-layer predictions for a real network.
"""

# Recursion (docs/theory.md), with z ~ N(0, q) and u ~ N(0, 1):
#     q_l   = sigma_w^2 E[phi(sqrt(q_{l-1}) u)^2] + sigma_b^2   (a second-moment recursion: for sigmoid
#                                                                E[phi^2] includes the mean of phi)
#     chi_1 = sigma_w^2 E[phi'(sqrt(q*) u)^2]
#     xi    = -1 / ln chi_c,  chi_c = sigma_w^2 E[phi'(z_a) phi'(z_b)] at the correlation fixed point c*
#
# Gaussian expectations. Gauss-Hermite (hermegauss) is exact for polynomials and good for small q, but for large q the integrand phi(sqrt(q) u) is a near-step in u and Gauss-Hermite
# converges slowly (tanh at q = 100: 300 nodes still miss E[phi'^2] by 30 %). So we integrate in
# z = sqrt(q) u with composite Gauss-Legendre panels: panels at most 1 wide where activations bend
# (|z| <= 12, with an edge at the ReLU kink z = 0), sqrt(q)/8 further out, cut at 9 sqrt(q). That gives
# ~1e-13 relative accuracy for every activation and every q (the tests compare it with the closed forms
# for relu, leaky_relu, linear and gelu and with a brute-force reference). The activation functions are
# core.activations.ACTIVATIONS: the very ones the trained network uses.

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from core.activations import ACTIVATIONS, check_activation as _check_activation

_LEG_X, _LEG_W = np.polynomial.legendre.leggauss(10)
_BAND = 12.0  # |z| where activations bend; beyond it they are flat or linear to ~1e-10
_CUT = 9.0  # standard deviations; the Gaussian mass beyond is 2e-19


# ------------------------------------------------------------------------------------ activations
def activation_functions(activation: str, slope: float = 0.01) -> tuple[Callable, Callable]:
    """(phi, phi') of an activation, as float64 ufunc-like callables (``core.activations.ACTIVATIONS``)."""
    _check_activation(activation)
    act = ACTIVATIONS[activation]
    if activation == "leaky_relu":
        return (lambda z: act.phi(z, slope)), (lambda z: act.dphi(z, slope))
    return act.phi, act.dphi


def _check_var(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")  # noqa: TRY004 (house rule)
    value = float(value)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _tail(activation: str, slope: float) -> tuple[float, float] | None:
    """lim phi'(z) for z -> +inf and -inf, for activations whose q* can be infinite (else None)."""
    return ACTIVATIONS[activation].tails(slope)


# ------------------------------------------------------------------------------------- quadrature
def _edges(sd: float, band: float = _BAND, outer: float = 0.125) -> np.ndarray:
    """Panel edges covering [-9 sd, 9 sd]: width <= min(1, sd/2) for |z| <= band, sd * outer beyond."""
    top = _CUT * sd
    h = min(1.0, sd / 2.0)
    z_band = min(band, top)
    m = math.ceil(z_band / h - 1e-9)
    inner = h * np.arange(0, m + 1)
    if inner[-1] < top:
        k = math.ceil((top - inner[-1]) / (outer * sd) - 1e-9)
        inner = np.concatenate([inner, np.linspace(inner[-1], top, k + 1)[1:]])
    return np.concatenate([-inner[:0:-1], inner])


def _legendre(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and (length) weights of composite Gauss-Legendre on the given panels."""
    mid = (edges[1:] + edges[:-1]) / 2.0
    half = (edges[1:] - edges[:-1]) / 2.0
    return (mid[:, None] + half[:, None] * _LEG_X).ravel(), (half[:, None] * _LEG_W).ravel()


@lru_cache(maxsize=4096)
def _rule(q: float, mean: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with sum_i w_i f(z_i) ~= E[f(z)], z ~ N(mean, q)."""
    if q == 0.0:
        return np.array([mean]), np.array([1.0])
    sd = math.sqrt(q)
    if mean == 0.0 and _CUT * sd <= _BAND:  # the whole Gaussian is inside the band: one rule in u = z / sd
        return sd * _UNIT_U, _UNIT_W
    edges = _edges(sd)
    if mean != 0.0:
        # panels scaled to the Gaussian around its mean, plus the fine panels around the kink z = 0
        edges = _merge_edges(edges + mean, _edges(max(sd, 1.0)))
    z, w = _legendre(edges)
    return z, w * np.exp(-0.5 * (z - mean) ** 2 / q) / math.sqrt(2.0 * math.pi * q)


def _merge_edges(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = a[0], a[-1]
    e = np.union1d(a, b[(b > lo) & (b < hi)])
    return e[np.concatenate([[True], np.diff(e) > 1e-12])]


_UNIT_U, _UNIT_W = _legendre(_edges(1.0, band=math.inf))
_UNIT_W = _UNIT_W * np.exp(-0.5 * _UNIT_U**2) / math.sqrt(2.0 * math.pi)


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], q: float, mean: float = 0.0) -> float:
    """E[f(z)] for z ~ N(mean, q), by composite Gauss-Legendre (see the module docstring)."""
    z, w = _rule(_check_var("q", q), float(mean))
    return float(np.dot(w, f(z)))


def _moments(q: float, activation: str, slope: float, mean: float = 0.0) -> tuple[float, float, float]:
    """(E[phi(z)], E[phi(z)^2], E[phi'(z)^2]) for z ~ N(mean, q); closed forms for the piecewise-linear."""
    tail = _tail(activation, slope)
    if activation != "gelu" and tail is not None and mean == 0.0:
        a, b = tail  # phi(z) = a z (z > 0), b z (z < 0): E[phi] = (a - b) sqrt(q / 2 pi)
        return (a - b) * math.sqrt(q / (2 * math.pi)), (a * a + b * b) * q / 2, (a * a + b * b) / 2
    phi, dphi = activation_functions(activation, slope)
    z, w = _rule(q, mean)
    h = phi(z)
    d = dphi(z)
    return float(np.dot(w, h)), float(np.dot(w, h * h)), float(np.dot(w, d * d))


def _second_moment(q: float, activation: str, slope: float) -> float:
    """E[phi(z)^2], z ~ N(0, q)."""
    if _tail(activation, slope) is not None and activation != "gelu":
        return _moments(q, activation, slope)[1]
    phi, _ = activation_functions(activation, slope)
    z, w = _rule(q)
    return float(np.dot(w, phi(z) ** 2))


# ------------------------------------------------------------------------------- fixed point, chi1
@lru_cache(maxsize=4096)
def fixed_point(
    sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01, q0: float = 1.0
) -> float:
    """The fixed point q* of q -> sigma_w2 E[phi(sqrt(q) u)^2] + sigma_b2 reached from q0 (default 1).

    The map is increasing in q, so iterating from q0 converges monotonically to the nearest fixed point
    in the direction it moves; slow (near-critical) cases are finished by regula falsi. Returns ``inf``
    when q grows without bound (ReLU-like activations above criticality), 0.0 when it decays to 0.
    For ReLU with sigma_w2 = 2, sigma_b2 = 0 every q is a fixed point and q0 is returned.
    GELU has an unstable fixed point between a stable q* and infinity (its map is ~ q/4 near 0 and ~ q/2
    for large q), so for GELU the answer depends on q0: the default 1 is the variance of standardized input.
    """
    sw, sb = _check_var("sigma_w2", sigma_w2), _check_var("sigma_b2", sigma_b2)
    _check_activation(activation)
    q = _check_var("q0", q0)

    def F(x: float) -> float:
        return sw * _second_moment(x, activation, slope) + sb

    tail = _tail(activation, slope)
    if tail is not None and activation != "gelu":  # piecewise linear: F(q) = s q + sigma_b2 exactly
        s = sw * (tail[0] ** 2 + tail[1] ** 2) / 2.0
        if s < 1.0:
            return sb / (1.0 - s)
        if s == 1.0 and sb == 0.0 or q == 0.0 and sb == 0.0:
            return q
        return math.inf
    for _ in range(50):
        qn = F(q)
        if not math.isfinite(qn) or qn > 1e300:
            return math.inf
        if activation == "gelu" and q > 0.0:
            # E[gelu(sqrt(q) u)^2] / q increases with q (from 1/4 to 1/2), so once the weight part of the
            # map grows q it does so for every larger q (-> inf), and with no bias, once it shrinks q it
            # does so for every smaller q (-> 0).
            if qn > q and (qn - sb) / q > 1.0:
                return math.inf
            if sb == 0.0 and qn < q:
                return 0.0
        if abs(qn - q) <= 1e-14 * max(q, 1e-300) or qn == q:
            return qn
        q = qn
    # Slow (near-critical) convergence: bracket the fixed point, then regula falsi (Illinois).
    if F(q) > q:
        lo, hi = q, 16.0 * q
        while F(hi) > hi:
            lo, hi = hi, 16.0 * hi
            if hi > 1e300:
                return math.inf
    else:
        lo, hi = q / 16.0, q
        while F(lo) < lo:
            lo, hi = lo / 16.0, lo
            if lo < 1e-300:
                return 0.0
    return _illinois(lambda x: F(x) - x, lo, hi)


def _illinois(g: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of g in [lo, hi] with g(lo) >= 0 >= g(hi), by the Illinois variant of regula falsi."""
    glo, ghi = g(lo), g(hi)
    side, x_prev = 0, math.nan
    for _ in range(200):
        if glo == ghi:
            break
        x = (lo * ghi - hi * glo) / (ghi - glo)
        if not lo < x < hi:
            x = 0.5 * (lo + hi)
        gx = g(x)
        if gx == 0.0 or abs(x - x_prev) <= 1e-15 * abs(x):
            return x
        x_prev = x
        if gx > 0.0:
            lo, glo = x, gx
            if side == 1:
                ghi /= 2.0
            side = 1
        else:
            hi, ghi = x, gx
            if side == -1:
                glo /= 2.0
            side = -1
        if hi - lo <= 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


@lru_cache(maxsize=4096)
def chi1(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """chi_1 = sigma_w2 E[phi'(sqrt(q*) u)^2]: the per-layer factor of the gradient variance at q*.

    < 1 ordered (gradients vanish), > 1 chaotic (they explode), = 1 the edge of chaos. When q* is
    infinite (ReLU-like above criticality) it is the large-q limit sigma_w2 (a^2 + b^2) / 2, with a, b
    the slopes of phi for z -> +inf and -inf.
    """
    q = fixed_point(sigma_w2, sigma_b2, activation, slope)
    if math.isinf(q):
        a, b = _tail(activation, slope)
        return sigma_w2 * (a * a + b * b) / 2.0
    return sigma_w2 * _moments(q, activation, slope)[2]


@lru_cache(maxsize=4096)
def critical_sigma_w2(sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """The sigma_w2 at which chi_1 = 1 (the edge of chaos) for this sigma_b2, by bisection in log sigma_w2.

    ReLU: 2; leaky ReLU: 2 / (1 + slope^2); linear: 1 (for every sigma_b2). tanh with sigma_b2 = 0: 1.
    Returns ``inf`` if chi_1 stays below 1 for every sigma_w2 up to 1e6. For GELU, chi_1 jumps at this
    point (q* switches from finite to infinite, see `fixed_point`): it is where that switch happens.
    """
    _check_var("sigma_b2", sigma_b2)
    _check_activation(activation)
    tail = _tail(activation, slope)
    if tail is not None and activation != "gelu":
        return 2.0 / (tail[0] ** 2 + tail[1] ** 2)
    lo, hi = 1e-3, 1.0
    while chi1(hi, sigma_b2, activation, slope) < 1.0:
        lo, hi = hi, hi * 2.0
        if hi > 1e6:
            return math.inf
    while chi1(lo, sigma_b2, activation, slope) > 1.0:
        lo /= 2.0
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        if chi1(mid, sigma_b2, activation, slope) < 1.0:
            lo = mid
        else:
            hi = mid
        if hi / lo - 1.0 < 1e-13:
            break
    return math.sqrt(lo * hi)


# ------------------------------------------------------------------------------------ correlations
def _pair_expectation(f: Callable, g: Callable, q: float, c: float) -> float:
    """E[f(z_a) g(z_b)] for (z_a, z_b) ~ N(0, q [[1, c], [c, 1]]).

    Written as z_b = c z_a + t with t ~ N(0, q (1 - c^2)) independent of z_a: the z_a axis uses the
    1-D rule (fine panels at the activation's bend), the t axis uniform panels no wider than 1 (the
    activation's scale, wherever c z_a puts its bend) and than half the std of t.
    """
    za, wa = _rule(q)
    perp2 = q * max(1.0 - c * c, 0.0)
    if perp2 < 1e-24:
        return float(np.dot(wa, f(za) * g(za)))
    perp = math.sqrt(perp2)
    if c <= 0.95:
        return _pair_expectation_joint(f, g, q, c)
    n = math.ceil(2 * _CUT * perp / min(1.0, perp / 2.0) - 1e-9)
    t, wt = _legendre(np.linspace(-_CUT * perp, _CUT * perp, n + 1))
    wt = wt * np.exp(-0.5 * t * t / perp2) / math.sqrt(2.0 * math.pi * perp2)
    keep = wa > 1e-300
    za, wa = za[keep], wa[keep]
    inner = np.empty(len(za))
    step = max(1, 2_000_000 // len(t))  # bound the temporary (step x len(t)) matrix
    for i in range(0, len(za), step):
        inner[i : i + step] = g(c * za[i : i + step, None] + t[None, :]) @ wt
    return float(np.dot(wa * f(za), inner))


def _pair_expectation_joint(f: Callable, g: Callable, q: float, c: float) -> float:
    """The same expectation on a tensor grid in (z_a, z_b) weighted by the joint density: both axes keep
    the fine panels at the bend, and for c <= 0.95 the joint density varies slowly enough (its
    conditional std is >= 0.31 sqrt(q), panels are <= sqrt(q) / 8). Only 1-D evaluations of f and g."""
    sd = math.sqrt(q)
    z, w = _legendre(_edges(sd))
    keep = np.abs(z) < _CUT * sd
    z, w = z[keep], w[keep]
    one_m_c2 = 1.0 - c * c
    log_p = -(z[:, None] ** 2 - 2.0 * c * z[:, None] * z[None, :] + z[None, :] ** 2) / (2.0 * q * one_m_c2)
    dens = np.exp(log_p) / (2.0 * math.pi * q * math.sqrt(one_m_c2))
    return float((w * f(z)) @ dens @ (w * g(z)))


def correlation_map(
    c: float, sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01
) -> float:
    """c -> (sigma_w2 E[phi(z_a) phi(z_b)] + sigma_b2) / q*: how one layer changes the correlation of two
    inputs that sit at the length fixed point q*."""
    q = fixed_point(sigma_w2, sigma_b2, activation, slope)
    if q == 0.0 or math.isinf(q):
        raise ValueError("the correlation map needs a finite, positive q*")
    phi, _ = activation_functions(activation, slope)
    return (sigma_w2 * _pair_expectation(phi, phi, q, c) + sigma_b2) / q


@lru_cache(maxsize=4096)
def correlation_fixed_point(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """c*: 1 in the ordered phase (chi_1 <= 1); in the chaotic phase the stable fixed point c* < 1 of
    `correlation_map` (found by regula falsi on [0, 1); the map is increasing and convex there)."""
    if chi1(sigma_w2, sigma_b2, activation, slope) <= 1.0:
        return 1.0
    q = fixed_point(sigma_w2, sigma_b2, activation, slope)
    if math.isinf(q):
        return 1.0  # ReLU-like: the normalised map has c = 1 as its only (marginal) fixed point

    def h(c: float) -> float:
        return correlation_map(c, sigma_w2, sigma_b2, activation, slope) - c

    if h(0.0) <= 1e-13:  # (quadrature noise around an exact 0)
        return 0.0  # e.g. odd phi with sigma_b2 = 0: c = 0 is the fixed point
    lo, hi = 0.0, None
    for k in range(1, 11):
        c = 1.0 - 10.0**-k
        if h(c) < 0.0:
            hi = c
            break
        lo = c
    if hi is None:
        return 1.0  # c* within 1e-10 of 1: numerically at the edge of chaos
    return _illinois(h, lo, hi)


@lru_cache(maxsize=4096)
def chi_c(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """chi_c = sigma_w2 E[phi'(z_a) phi'(z_b)] at the correlation fixed point (= chi_1 when c* = 1)."""
    c = correlation_fixed_point(sigma_w2, sigma_b2, activation, slope)
    if c == 1.0:
        x = chi1(sigma_w2, sigma_b2, activation, slope)
        q = fixed_point(sigma_w2, sigma_b2, activation, slope)
        return 1.0 if (math.isinf(q) and x > 1.0) else x
    q = fixed_point(sigma_w2, sigma_b2, activation, slope)
    _, dphi = activation_functions(activation, slope)
    return sigma_w2 * _pair_expectation(dphi, dphi, q, c)


@lru_cache(maxsize=4096)
def depth_scale(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """xi = -1 / ln chi_c: the depth over which two inputs' correlation still carries information
    (Schoenholz et al. 2017). Networks train up to a depth of a small multiple of xi.

    Ordered phase: c* = 1 and chi_c = chi_1. Chaotic phase: chi_c at the fixed point c* < 1. ``inf`` at
    the edge of chaos, and for ReLU-like activations above criticality (q* is infinite there and the
    correlation converges to 1 only polynomially -- their gradients explode instead; see
    `gradient_depth_scale`).
    """
    x = chi_c(sigma_w2, sigma_b2, activation, slope)
    if x <= 0.0:
        return 0.0
    lnx = math.log(x)
    if abs(lnx) < 1e-10:
        return math.inf
    return -1.0 / lnx


def gradient_depth_scale(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """1 / |ln chi_1|: the depth over which the gradient variance shrinks (chi_1 < 1) or grows (> 1) e-fold."""
    x = chi1(sigma_w2, sigma_b2, activation, slope)
    if x <= 0.0:
        return 0.0
    lnx = abs(math.log(x))
    return math.inf if lnx < 1e-10 else 1.0 / lnx


# -------------------------------------------------------------------------- a real network's layers
def predict_layers(
    sizes: Sequence[int],
    weight_vars: Sequence[float],
    bias_var: float | Sequence[float],
    activation: str,
    input_second_moment: float = 1.0,
    slope: float = 0.01,
    bias_mean: float = 0.0,
) -> dict[str, np.ndarray]:
    """Mean-field prediction, layer by layer, for the network [d, n_1, ..., n_L, k] at initialization.

    ``weight_vars[j]``: per-element variance of weight matrix j + 1 (``initializers.weight_std(...)**2``);
    ``bias_var``: bias variance (one number or one per layer); ``bias_mean``: a constant bias c;
    ``input_second_moment``: mean of x_i^2 over features and examples (1 for standardized data).

    Returns arrays of length L + 1 (column j = weight matrix j + 1; the last is the output layer):
    "pre_var" Var[z_j] = n_{j-1} v_j E[h_{j-1}^2] + bias_var (the exact expectation over the weights;
    the Gaussian assumption enters from the second layer on); "act_mean", "act_second_moment",
    "act_var" of h_j = phi(z_j) (the logits themselves for the output layer); "dphi2" E[phi'(z_j)^2]
    (1 at the output); "grad_var" Var[dLoss/dz_j] relative to the output layer's (= 1), back-propagated
    as grad_var_j = n_{j+1} v_{j+1} E[phi'(z_j)^2] grad_var_{j+1} with the real fan-out n_{j+1}.
    """
    _check_activation(activation)
    sizes = list(sizes)
    if len(sizes) < 2 or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes
    ):
        raise ValueError(f"sizes must be a list of >= 2 positive integers, got {sizes!r}")
    n_layers = len(sizes) - 1
    if len(weight_vars) != n_layers:
        raise ValueError(
            f"weight_vars must have {n_layers} entries (one per weight matrix), got {len(weight_vars)}"
        )
    v = [_check_var("weight_vars", x) for x in weight_vars]
    if isinstance(bias_var, (int, float, np.integer, np.floating)) and not isinstance(bias_var, bool):
        bv = [_check_var("bias_var", bias_var)] * n_layers
    else:
        bv = [_check_var("bias_var", x) for x in bias_var]
        if len(bv) != n_layers:
            raise ValueError(f"bias_var must be one number or {n_layers} numbers, got {len(bv)}")
    m2 = _check_var("input_second_moment", input_second_moment)
    out = {k: np.empty(n_layers) for k in ("pre_var", "act_mean", "act_second_moment", "act_var", "dphi2")}
    for j in range(n_layers):
        q = sizes[j] * v[j] * m2 + bv[j]
        out["pre_var"][j] = q
        if j == n_layers - 1:  # the logits: no activation
            mean, sec, d2 = bias_mean, q + bias_mean**2, 1.0
        else:
            mean, sec, d2 = _moments(q, activation, slope, bias_mean)
        out["act_mean"][j], out["act_second_moment"][j], out["dphi2"][j] = mean, sec, d2
        out["act_var"][j] = max(sec - mean * mean, 0.0)
        m2 = sec
    g = np.empty(n_layers)
    g[-1] = 1.0
    for j in range(n_layers - 2, -1, -1):
        g[j] = sizes[j + 2] * v[j + 1] * out["dphi2"][j] * g[j + 1]
    out["grad_var"] = g
    return out
