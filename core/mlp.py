"""The readable reference network: a small numpy MLP with dense layers and softmax cross-entropy.

Each piece keeps its forward rule next to its backward rule, so a student can check one against the other.
The app trains with the speed-tuned engine (core/engine.py); tests/test_train.py holds the engine to this
network (same initial weights, same losses and gradients). The activations are core.activations' table.
"""

from __future__ import annotations

import hashlib

import numpy as np

from core.activations import ACTIVATIONS, Activation, erf, norm_cdf, norm_pdf  # noqa: F401 (public API)
from core.losses import softmax_cross_entropy

DTYPES = ("float64", "float32")

# ---------------------------------------------------------------------------------------------
# The network.
# ---------------------------------------------------------------------------------------------


def init_rng(seed: int, scheme: str) -> np.random.Generator:
    """The generator of one scheme's initial weights: a function of (seed, scheme) only.

    Adding or removing another scheme from a comparison never changes this one's weights.
    """
    tag = int.from_bytes(hashlib.sha256(scheme.encode()).digest()[:8], "little")
    return np.random.default_rng([int(seed), tag])


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def _check_sizes(sizes) -> list[int]:
    try:
        sizes = list(sizes)
    except TypeError:
        raise ValueError(f"sizes must be a list of layer widths [d, n, ..., k], got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes must have at least 2 entries (input and output width), got {sizes!r}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"sizes must be positive integers, got {sizes!r}")
    return [int(s) for s in sizes]


class MLP:
    """Dense layers z = h_prev @ W + b, h = phi(z) on every hidden layer, logits on the last.

    `sizes` = [d, n_1, ..., n_L, k]; W of layer j has shape (sizes[j], sizes[j + 1]).
    Initial weights come from `core.initializers.initialize(weight_init, ...)` with `init_params`
    (gain, scale, std, value, bound, mode, slope) and a generator that depends on (seed, weight_init) only.
    """

    def __init__(
        self,
        sizes,
        activation: str = "tanh",
        weight_init: str = "xavier_uniform",
        bias_init: str = "zeros",
        seed: int = 0,
        dtype: str = "float64",
        use_bias: bool = True,
        bias_value: float = 0.0,
        **init_params,
    ) -> None:
        from core.initializers import BIAS_SCHEMES, SCHEMES, initialize, initialize_bias

        self.sizes = _check_sizes(sizes)
        _check_choice("weight_init", weight_init, tuple(SCHEMES))
        _check_choice("bias_init", bias_init, tuple(BIAS_SCHEMES))
        _check_choice("activation", activation, tuple(ACTIVATIONS))
        _check_choice("dtype", dtype, DTYPES)
        self.activation = activation
        self.slope = float(init_params.get("slope", 0.01))
        self.dtype = np.dtype(dtype)
        self.use_bias = bool(use_bias)
        self.weight_init = weight_init
        self.bias_init = bias_init
        rng = init_rng(seed, weight_init)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        init_params = {"activation": activation, **init_params}
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            W = initialize(weight_init, fan_in, fan_out, rng=rng, **init_params)
            self.weights.append(np.array(W, dtype=self.dtype, order="C"))
            if self.use_bias:
                b = initialize_bias(bias_init, fan_in, fan_out, rng, value=bias_value)
                self.biases.append(np.array(b, dtype=self.dtype).reshape(fan_out))

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.sizes) - 2

    def _check_X(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (n_examples, {self.sizes[0]}), got {X.shape}")
        return X.astype(self.dtype, copy=False)

    def _forward(self, X) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations zs and layer inputs hs (hs[0] = X); the last z is the logits."""
        phi = ACTIVATIONS[self.activation].phi
        h = self._check_X(X)
        hs, zs = [h], []
        for j, W in enumerate(self.weights):
            z = h @ W
            if self.use_bias:
                z = z + self.biases[j]
            zs.append(z)
            if j < len(self.weights) - 1:
                h = phi(z, slope=self.slope).astype(self.dtype, copy=False)
                hs.append(h)
        return zs, hs

    def activations(self, X) -> list[np.ndarray]:
        """Post-activation h of each hidden layer, then the logits."""
        with np.errstate(all="ignore"):
            zs, hs = self._forward(X)
        return hs[1:] + [zs[-1]]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.activations(X)[-1], axis=1)

    def loss_and_grads(self, X, y) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Mean softmax cross-entropy on (X, y), and its gradients with respect to every W and b."""
        y = np.asarray(y)
        X = self._check_X(X)
        k = self.sizes[-1]
        if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= k:
            raise ValueError(f"y must be {X.shape[0]} integer labels in [0, {k}), got shape {y.shape}")
        dphi = ACTIVATIONS[self.activation].dphi
        with np.errstate(all="ignore"):
            zs, hs = self._forward(X)
            loss, dz = softmax_cross_entropy(zs[-1], y)
            dz = dz.astype(self.dtype, copy=False)
            dW: list[np.ndarray] = [None] * len(self.weights)  # type: ignore[list-item]
            db: list[np.ndarray] = [None] * len(self.weights)  # type: ignore[list-item]
            for j in range(len(self.weights) - 1, -1, -1):
                # z_j = h_j @ W_j + b_j  =>  dW_j = h_j^T dz_j,  db_j = sum over the batch of dz_j
                dW[j] = hs[j].T @ dz
                db[j] = dz.sum(axis=0)
                if j > 0:
                    # h_j = phi(z_{j-1})  =>  dz_{j-1} = (dz_j W_j^T) * phi'(z_{j-1})
                    dz = (dz @ self.weights[j].T) * dphi(zs[j - 1], slope=self.slope).astype(self.dtype)
        if not self.use_bias:
            db = []
        return loss, dW, db
