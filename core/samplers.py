"""The weight samplers of core.initializers' registry: one small function per scheme, before `scale`.

Each returns W (fan_in, fan_out) from the resolved parameters p; the exact std of its elements sits next to it.
"""

from __future__ import annotations

import math

import numpy as np

# Std of a standard normal truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (2 Phi(2) - 1)).
TRUNC_STD = 0.87962566103423978
TRUNC_CUT = 2.0


# ------------------------------------------------------------------------------- the initializers
# Each returns the rule *before* `scale`; `initialize` applies `scale` last. Shapes are (fan_in, fan_out).
# `activation` matters only to He's rule (leaky ReLU's slope); every sampler takes it, so the registry calls
# them alike.
def zeros(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W = 0. Every unit computes the same function: the symmetry is never broken."""
    return np.zeros((fan_in, fan_out))


def constant(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W = g c. Same symmetry as zeros: equal units receive equal gradients forever."""
    return np.full((fan_in, fan_out), p["gain"] * p["value"])


def normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ N(0, (g sigma)^2), sigma = ``std`` (default 0.01, the classic tutorial value)."""
    return rng.standard_normal((fan_in, fan_out)) * (p["gain"] * p["std"])


def uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ U[-g a, g a], a = ``bound``; std = g a / sqrt(3)."""
    b = p["gain"] * p["bound"]
    return rng.uniform(-b, b, (fan_in, fan_out))


def standard_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ U[-g / sqrt(fan_in), g / sqrt(fan_in)]; variance g^2 / (3 fan_in).

    The "standard" heuristic criticised by Glorot & Bengio (2010) and PyTorch's ``nn.Linear`` default
    (``kaiming_uniform_(a=sqrt(5))`` reduces to exactly this bound).
    """
    b = p["gain"] / math.sqrt(fan_in)
    return rng.uniform(-b, b, (fan_in, fan_out))


def lecun_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ N(0, g^2 / fan_in). LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp."""
    return rng.standard_normal((fan_in, fan_out)) * (p["gain"] / math.sqrt(fan_in))


def lecun_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ U[-g sqrt(3 / fan_in), g sqrt(3 / fan_in)]: variance g^2 / fan_in. LeCun et al. (1998)."""
    b = p["gain"] * math.sqrt(3.0 / fan_in)
    return rng.uniform(-b, b, (fan_in, fan_out))


def xavier_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ N(0, g^2 2 / (fan_in + fan_out)). Glorot & Bengio (2010)."""
    return rng.standard_normal((fan_in, fan_out)) * (p["gain"] * math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W ~ U[-g sqrt(6 / (fan_in + fan_out)), +...]: variance g^2 2 / (fan_in + fan_out). Glorot & Bengio (2010)."""
    b = p["gain"] * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-b, b, (fan_in, fan_out))


def _he_variance(fan_in: int, fan_out: int, activation: str, p: dict) -> float:
    """2 g^2 / ((1 + slope^2) fan), slope counted only for leaky_relu; fan = fan_in or fan_out (``mode``)."""
    fan = fan_in if p["mode"] == "fan_in" else fan_out
    slope = p["slope"] if activation == "leaky_relu" else 0.0
    return 2.0 * p["gain"] ** 2 / ((1.0 + slope**2) * fan)


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str) -> np.ndarray:
    """W ~ N(0, 2 g^2 / ((1 + slope^2) fan)). He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.

    ``mode="fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
    """
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(_he_variance(fan_in, fan_out, activation, p))


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str) -> np.ndarray:
    """W ~ U[-b, b], b = g sqrt(6 / ((1 + slope^2) fan)): He et al. (2015)'s variance, uniform."""
    b = math.sqrt(3.0 * _he_variance(fan_in, fan_out, activation, p))
    return rng.uniform(-b, b, (fan_in, fan_out))


def orthogonal(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """W = g Q with Q a random (Haar) orthogonal matrix. Saxe, McClelland & Ganguli (2013).

    Q is the QR factor of a standard Gaussian matrix with the sign of R's diagonal fixed (this is
    what makes Q uniformly distributed). Non-square like ``torch.nn.init.orthogonal_``: if
    fan_in >= fan_out the columns are orthonormal (Q^T Q = I), else the rows are (Q Q^T = I).
    Every element then has variance 1 / max(fan_in, fan_out).
    """
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # sign(0) would be 0; a zero diagonal has probability 0
    if fan_in < fan_out:
        q = q.T
    return np.ascontiguousarray(q) * p["gain"]


def truncated_normal(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """N(0, s^2) cut at +-2 s and redrawn, s = g sigma / 0.8796, so that the std is exactly g sigma.

    0.87962566 is the std of a standard normal truncated to [-2, 2]; dividing by it is the variance
    correction of TensorFlow's ``VarianceScaling(distribution="truncated_normal")``.
    """
    x = rng.standard_normal((fan_in, fan_out))
    bad = np.abs(x) > TRUNC_CUT
    while bad.any():  # redraw only the rejected entries (about 4.6 % each round)
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > TRUNC_CUT
    return x * (p["gain"] * p["std"] / TRUNC_STD)


def sparse(
    fan_in: int, fan_out: int, rng: np.random.Generator, p: dict, activation: str = "tanh"
) -> np.ndarray:
    """N(0, (g sigma)^2) with ceil(sparsity * fan_out) of each input's fan_out weights set to 0.

    PyTorch's ``torch.nn.init.sparse_(W, sparsity, std=0.01)`` (Martens 2010, "Deep learning via
    Hessian-free optimization"): it zeroes a fraction of each column of its (fan_out, fan_in) weight,
    i.e. of each row of this (fan_in, fan_out) W, at positions drawn uniformly without replacement.
    """
    w = rng.standard_normal((fan_in, fan_out)) * (p["gain"] * p["std"])
    n_zero = _sparse_zeros(fan_out, p)
    if n_zero:
        cols = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :n_zero]
        np.put_along_axis(w, cols, 0.0, axis=1)
    return w


def _sparse_zeros(fan_out: int, p: dict) -> int:
    return min(fan_out, math.ceil(p["sparsity"] * fan_out))


def _zero_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """0: the elements of zeros and constant do not vary."""
    return 0.0


def _orthogonal_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """g / sqrt(max(fan_in, fan_out)): the squared entries of Q sum to min(fan_in, fan_out) over
    fan_in * fan_out elements, all exchangeable."""
    return p["gain"] / math.sqrt(max(fan_in, fan_out))


def fan_in_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """g / sqrt(fan_in): LeCun's std, normal or uniform."""
    return p["gain"] / math.sqrt(fan_in)


def fan_avg_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """g sqrt(2 / (fan_in + fan_out)): Xavier's std, normal or uniform."""
    return p["gain"] * math.sqrt(2.0 / (fan_in + fan_out))


def he_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """sqrt(2 g^2 / ((1 + slope^2) fan)): He's std, normal or uniform."""
    return math.sqrt(_he_variance(fan_in, fan_out, activation, p))


def sigma_std(fan_in: int, fan_out: int, p: dict, activation: str) -> float:
    """g sigma: the std of normal, truncated_normal (by its correction) and sparse's nonzero weights."""
    return p["gain"] * p["std"]
