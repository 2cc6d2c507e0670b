"""Softmax and softmax cross-entropy, the one loss of Init Lab: the reference form and the evaluation's.

The engine's training step fuses the same formula into its buffers (core/train.py, `loss_and_backward`);
tests/test_train.py holds that form to `softmax_cross_entropy` here.
"""

from __future__ import annotations

import numpy as np


def _shifted_exp(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z - max z, exp of it, its sum) over the last axis: log-sum-exp without overflow."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=-1, keepdims=True)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities over the last axis."""
    _, e, s = _shifted_exp(logits)
    return e / s


def nll(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[y] per example: logits (..., N, k), y (N,) integer labels -> (..., N)."""
    shifted, _, s = _shifted_exp(logits)
    return np.log(s[..., 0]) - shifted[..., np.arange(len(y)), y]


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of -log softmax(logits)[y] over the batch, and its gradient with respect to the logits.

    d/dz_c of -log softmax(z)[y] = softmax(z)_c - [c == y]; the mean divides it by the batch size.
    """
    shifted, e, s = _shifted_exp(logits)
    n = logits.shape[0]
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) - shifted[rows, y]))
    dlogits = e / s
    dlogits[rows, y] -= 1.0
    return loss, dlogits / n
