"""The one table of activation functions: phi, phi', the engine's in-place forms, gain and tails.

Used by the reference network (core/mlp.py), the training engine (core/engine.py), the theory and the initializers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev as _cheb

# ---------------------------------------------------------------------------------------------
# The error function, vectorized in numpy (numpy has none). Accurate to ~1e-15 relative: Chebyshev
# interpolants of erf(x)/x on |x| <= 1 (in x^2) and of erfc(x) exp(x^2) on [1, 6.5], fitted once at
# import from math.erf / math.erfc. Beyond x = 6.5, erfc(x) < 4e-20: erf(x) = +-1 to double precision
# and erfc is returned as 0 (an absolute error below 4e-20).
# ---------------------------------------------------------------------------------------------


def _fit(f: Callable[[float], float], a: float, b: float, degree: int) -> np.ndarray:
    def on_nodes(t: np.ndarray) -> np.ndarray:
        return np.array([f(a + (b - a) * (ti + 1.0) / 2.0) for ti in t])

    return _cheb.chebinterpolate(on_nodes, degree)


_ERF_SMALL = _fit(
    lambda t: math.erf(math.sqrt(t)) / math.sqrt(t) if t > 0 else 2 / math.sqrt(math.pi), 0, 1, 12
)
_ERFC_BIG = _fit(lambda x: math.erfc(x) * math.exp(x * x), 1.0, 6.5, 28)


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 1 (float64)."""
    return x * _cheb.chebval(2.0 * x * x - 1.0, _ERF_SMALL)


def _erfc_big(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a >= 1 (float64); 0 beyond 6.5."""
    c = np.minimum(a, 6.5)
    out = np.exp(-c * c) * _cheb.chebval((2.0 * c - 7.5) / 5.5, _ERFC_BIG)
    out[a > 6.5] = 0.0
    return out


def _float_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise."""
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    out = np.empty_like(x64)
    small = np.abs(x64) <= 1.0
    out[small] = _erf_small(x64[small])
    big = ~small
    xb = x64[big]
    out[big] = np.copysign(1.0 - _erfc_big(np.abs(xb)), xb)
    return out.astype(_float_dtype(x), copy=False)


def norm_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x), the standard normal CDF, accurate in both tails (erfc, not 1 + erf, for x < 0)."""
    x = np.asarray(x)
    u = x.astype(np.float64) * (1.0 / math.sqrt(2.0))
    out = np.empty_like(u)
    small = np.abs(u) <= 1.0
    out[small] = 0.5 + 0.5 * _erf_small(u[small])
    big = ~small
    ub = u[big]
    tail = 0.5 * _erfc_big(np.abs(ub))
    out[big] = np.where(ub < 0, tail, 1.0 - tail)
    return out.astype(_float_dtype(x), copy=False)


def norm_pdf(x: np.ndarray) -> np.ndarray:
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi)."""
    return np.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))


# ---------------------------------------------------------------------------------------------
# Activations. Per activation, side by side:
# - phi(z, slope), dphi(z, slope): the readable, exact forms (the reference network, the theory);
# - forward(z, out, slope, zeros): phi into a buffer, the engine's form (no temporaries; `zeros` is an
#   array of zeros shaped like z for relu, where np.maximum against a scalar is 3x slower);
# - backward(g, z, h, slope): g *= phi'(z) in place, reading the output h where that is cheaper
#   (tanh' = 1 - h^2, sigmoid' = h (1 - h));
# - gain(slope): the frameworks' recommended gain (`calculate_gain`);
# - tails(slope): lim phi'(z) for z -> +inf and -inf where phi is linear in both tails (q* can be infinite).
# ---------------------------------------------------------------------------------------------

# E[gelu(u)^2] for u ~ N(0, 1) is 1/3 + 1/(2 pi sqrt 3) (closed form; checked by quadrature in tests).
GELU_SECOND_MOMENT = 1.0 / 3.0 + 1.0 / (2.0 * math.pi * math.sqrt(3.0))


@dataclass(frozen=True)
class Activation:
    phi: Callable[..., np.ndarray]  # phi(z, slope) -> h
    dphi: Callable[..., np.ndarray]  # phi'(z, slope)
    forward: Callable[..., None]  # forward(z, out, slope, zeros): out = phi(z)
    backward: Callable[..., None]  # backward(g, z, h, slope): g *= phi'(z)
    gain: Callable[[float], float]  # gain(slope)
    tails: Callable[[float], tuple[float, float] | None] = lambda slope: None  # (phi'(+inf), phi'(-inf))
    keeps_one: bool = False  # phi(1) == 1: the engine's bias column of ones survives forward


# linear
def _linear(z, slope=None):
    return z.copy()


def _dlinear(z, slope=None):
    return np.ones_like(z)


def _linear_forward(z, out, slope, zeros):
    np.copyto(out, z)


def _linear_backward(g, z, h, slope):
    pass


# tanh
def _tanh(z, slope=None):
    return np.tanh(z)


def _dtanh(z, slope=None):
    return 1.0 - np.tanh(z) ** 2


def _tanh_forward(z, out, slope, zeros):
    np.tanh(z, out=out)


def _tanh_backward(g, z, h, slope):
    t = h * h
    np.subtract(1.0, t, out=t)
    g *= t


# sigmoid
def _sigmoid(z, slope=None):
    # 1 / (1 + exp(-z)) overflows exp for z < -709; the two-sided form never does
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(z, slope=None):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _sigmoid_forward(z, out, slope, zeros):
    np.negative(z, out=out)
    np.exp(out, out=out)  # may overflow to inf for z < -709: 1 / inf = 0 is the right answer
    out += 1.0
    np.reciprocal(out, out=out)


def _sigmoid_backward(g, z, h, slope):
    t = 1.0 - h
    t *= h
    g *= t


# relu
def _relu(z, slope=None):
    return np.maximum(z, 0)


def _drelu(z, slope=None):
    return (z > 0).astype(z.dtype)


def _relu_forward(z, out, slope, zeros):
    np.maximum(z, zeros, out=out)


def _relu_backward(g, z, h, slope):
    g *= z > 0


# leaky_relu
def _leaky_relu(z, slope=0.01):
    return np.where(z > 0, z, slope * z)


def _dleaky_relu(z, slope=0.01):
    return np.where(z > 0, 1.0, slope).astype(z.dtype)


def _leaky_relu_forward(z, out, slope, zeros):
    np.multiply(z, slope, out=out)
    np.maximum(z, out, out=out)  # max(z, slope z) = leaky_relu(z) for 0 <= slope <= 1


def _leaky_relu_backward(g, z, h, slope):
    g *= np.where(z > 0, 1.0, slope).astype(g.dtype)


# gelu: the exact z * Phi(z), Phi the standard normal CDF (not the tanh approximation)
def _gelu(z, slope=None):
    return z * norm_cdf(z)


def _dgelu(z, slope=None):
    return norm_cdf(z) + z * norm_pdf(z)


def _gelu_forward(z, out, slope, zeros):
    np.multiply(z, norm_cdf(z), out=out)


def _gelu_backward(g, z, h, slope):
    g *= (norm_cdf(z) + z * norm_pdf(z)).astype(g.dtype)


def _one(slope: float) -> float:
    return 1.0


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(
        _linear, _dlinear, _linear_forward, _linear_backward, _one, lambda s: (1.0, 1.0), keeps_one=True
    ),
    "tanh": Activation(_tanh, _dtanh, _tanh_forward, _tanh_backward, lambda s: 5.0 / 3.0),
    "sigmoid": Activation(_sigmoid, _dsigmoid, _sigmoid_forward, _sigmoid_backward, _one),
    "relu": Activation(
        _relu,
        _drelu,
        _relu_forward,
        _relu_backward,
        lambda s: math.sqrt(2.0),
        lambda s: (1.0, 0.0),
        keeps_one=True,
    ),
    "leaky_relu": Activation(
        _leaky_relu,
        _dleaky_relu,
        _leaky_relu_forward,
        _leaky_relu_backward,
        lambda s: math.sqrt(2.0 / (1.0 + s**2)),
        lambda s: (1.0, s),
        keeps_one=True,
    ),
    # gelu: frameworks define no gain. We use the one that keeps the second moment of a unit-variance
    # Gaussian input, 1 / sqrt(E[gelu(u)^2]) ~= 1.5335 -- the definition that gives ReLU its sqrt(2).
    "gelu": Activation(
        _gelu,
        _dgelu,
        _gelu_forward,
        _gelu_backward,
        lambda s: 1.0 / math.sqrt(GELU_SECOND_MOMENT),
        lambda s: (1.0, 0.0),
    ),
}


def check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")


def phi_of(activation: str, slope: float = 0.01) -> Callable[[np.ndarray], np.ndarray]:
    """phi(z) of an activation with its slope bound, computed as the engine computes it (`forward`)."""
    check_activation(activation)
    forward = ACTIVATIONS[activation].forward

    def phi(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z)
        out = np.empty_like(z)
        forward(z, out, slope, np.zeros_like(z))
        return out

    return phi
