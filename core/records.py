"""What a training run returns: plain numpy arrays in small dataclasses, ready to cache and plot.

Layer axis convention: column j (0-based) of every per-layer array is weight matrix / layer j + 1;
columns 0..L-1 are the hidden layers and column L is the output layer (the logits).
Step convention: step s describes the parameters after s updates (step 0 = the initialization).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only a type: core.config imports core.data, which imports this module
    from core.config import ExperimentConfig

# Keys of RunRecord.layer_stats, each an array (R, L + 1) over RunRecord.stat_steps.
LAYER_STATS = (
    "act_mean",  # mean of the layer's output h = phi(z) (for the output layer: the logits)
    "act_std",  # std of h
    "pre_std",  # std of the pre-activation z = h_prev @ W + b
    "saturation",  # fraction of |h| > 0.99 (tanh), h < 0.01 or > 0.99 (sigmoid); NaN otherwise
    "dead",  # fraction of units that are 0 for every example of the batch (relu); NaN otherwise
    "weight_std",  # std of W
    "grad_std",  # std of dLoss/dW
    "grad_norm",  # Frobenius norm of dLoss/dW
    "backprop_std",  # std of dLoss/dz, the gradient flowing back into the layer
    "update_ratio",  # ||W_after - W_before|| / ||W_before|| of the update taken at that step
)

# Keys of RunRecord.symmetry, each an array (R, L) over RunRecord.stat_steps (hidden layers only).
SYMMETRY_STATS = (
    "distinct",  # number of distinct units (incoming weight vector + bias equal within tolerance)
    "cosine",  # mean pairwise cosine similarity of incoming weight vectors (1 = all parallel)
    "rank",  # numerical rank of the layer's activation matrix on the batch
)

# Keys of RunRecord.hists.
HISTOGRAMS = ("act", "act_log", "pre", "weight", "grad")  # act_log: activations on a log10|h| axis


@dataclass(frozen=True)
class Histogram:
    """Counts of one quantity per layer at the checkpoints, binned with one set of edges.

    `transform` is "linear" (bins over the value) or "log10abs" (bins over log10|value|;
    exact zeros are counted in `zeros`, not in `counts`). Values outside the edges are clipped
    into the first / last bin; `clipped` counts them.
    """

    edges: np.ndarray  # (B + 1,)
    counts: np.ndarray  # (C, L + 1, B) int64, C = len(RunRecord.hist_steps)
    transform: str
    zeros: np.ndarray  # (C, L + 1) int64
    clipped: np.ndarray  # (C, L + 1) int64


@dataclass(frozen=True)
class RunRecord:
    """One init scheme trained under one ExperimentConfig."""

    scheme: str
    config: ExperimentConfig
    sizes: tuple[int, ...]  # [d, n, ..., n, k]
    # every step
    loss: np.ndarray  # (S,) mini-batch train loss of update s + 1 (computed on the params at step s)
    # every record_every steps, plus 0 and the last step
    eval_steps: np.ndarray  # (E,) int
    train_loss: np.ndarray  # (E,) on the whole train split
    test_loss: np.ndarray  # (E,)
    train_acc: np.ndarray  # (E,) in [0, 1]
    test_acc: np.ndarray  # (E,)
    stat_steps: np.ndarray  # (R,) int, same as eval_steps
    layer_stats: dict[str, np.ndarray]  # LAYER_STATS -> (R, L + 1)
    symmetry: dict[str, np.ndarray]  # SYMMETRY_STATS -> (R, L)
    # at n_checkpoints steps, 0 and the last included
    hist_steps: np.ndarray  # (C,) int
    hists: dict[str, Histogram]  # HISTOGRAMS -> Histogram
    weight_snapshots: tuple[tuple[np.ndarray, ...], ...]  # [C][L+1] float32 copies of W (only when small)
    # the end
    final_weights: tuple[np.ndarray, ...]  # () when the network has more than 200k weights
    final_biases: tuple[np.ndarray, ...]
    confusion: np.ndarray  # (k, k) int, rows = true class, on the test split, at the last step
    boundary: (
        np.ndarray | None
    )  # (G, G) predicted class on the 2-D grid of `boundary_extent`; None for digits
    boundary_prob: np.ndarray | None  # (G, G) max class probability on that grid
    boundary_extent: tuple[float, float, float, float] | None  # x0, x1, y0, y1 in standardized units
    # what happened
    diverged_at: int | None  # the step at which loss or a parameter became NaN / inf; None if it did not
    divergence: str  # "" or a plain sentence: what became non-finite, where, at which step
    batch_digest: str  # sha1 of the sample indices of every mini-batch this run consumed
    seconds: float  # wall time of the training loop
    extra: dict = field(default_factory=dict)  # anything a lesson needs that the above lacks


@dataclass(frozen=True)
class DataSplit:
    """A standardized data set with a seeded train/test split."""

    name: str
    X_train: np.ndarray  # (N_train, d) float64, standardized with the train split's mean and std
    y_train: np.ndarray  # (N_train,) int64 in [0, k)
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    feature_names: tuple[str, ...] = ()
