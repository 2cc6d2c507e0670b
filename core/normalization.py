"""BatchNorm and LayerNorm for core.modern: forward and backward side by side, PyTorch's conventions.

BatchNorm keeps running statistics for evaluation: r <- (1 - momentum) r + momentum * batch statistic.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-5  # torch.nn.BatchNorm1d / LayerNorm default
BN_MOMENTUM = 0.1  # torch.nn.BatchNorm1d default

# BatchNorm normalizes each unit over the batch (axis 0), LayerNorm each example over its units (axis 1);
# both then scale by gamma and shift by beta (one per unit).


def norm_forward(z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, axis: int) -> tuple[np.ndarray, tuple]:
    """gamma * (z - mean) / sqrt(var + EPS) + beta with the mean and biased var along `axis`."""
    # np.add.reduce and in-place products: np.mean's wrapper cost more than the arithmetic at these sizes
    n = z.shape[axis]
    mu = np.add.reduce(z, axis=axis, keepdims=True)
    mu *= 1.0 / n
    xhat = z - mu
    var = np.add.reduce(xhat * xhat, axis=axis, keepdims=True)
    var *= 1.0 / n
    inv = 1.0 / np.sqrt(var + EPS)
    xhat *= inv
    out = xhat * gamma
    out += beta
    return out, (xhat, inv, gamma, axis, mu, var)


def norm_backward(
    dout: np.ndarray, cache: tuple, out: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dz, dgamma, dbeta), dgamma and dbeta written into `out` if given. xhat depends on z through the mean
    and the variance too: dz = inv / N * (N dxhat - sum dxhat - xhat * sum(dxhat * xhat)), sums along the
    normalized axis."""
    xhat, inv, gamma, axis, _, _ = cache
    n = xhat.shape[axis]
    dxhat = dout * gamma
    s1 = np.add.reduce(dxhat, axis=axis, keepdims=True)
    s2 = np.add.reduce(dxhat * xhat, axis=axis, keepdims=True)
    dz = dxhat
    dz *= n
    dz -= s1
    dz -= xhat * s2
    dz *= inv * (1.0 / n)
    dg, db = (None, None) if out is None else out
    return dz, np.add.reduce(dout * xhat, axis=0, out=dg), np.add.reduce(dout, axis=0, out=db)


def batchnorm_eval(
    z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray
) -> np.ndarray:
    """BatchNorm in evaluation: the running statistics replace the batch's."""
    return gamma * (z - mean) / np.sqrt(var + EPS) + beta


def update_running(running: dict, mu: np.ndarray, var: np.ndarray, n: int) -> None:
    """PyTorch's running statistics: r <- (1 - m) r + m x, with the unbiased batch variance."""
    m = BN_MOMENTUM
    running["mean"] = (1 - m) * running["mean"] + m * mu.ravel()
    running["var"] = (1 - m) * running["var"] + m * var.ravel() * (n / (n - 1))
