"""The lessons of Init Lab: file, stable url_path, title, icon and one line each, in navigation order.

app.py builds the navigation from this list (skipping pages whose file is missing); home and tests reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to the repo root
    url_path: str  # stable: share links contain it; "" is the home page
    title: str
    icon: str  # a Material Symbols name, ":material/...:"
    help: str  # navigation tooltip
    you_will_see: str  # the home page's one line about the lesson
    has_charts: bool = True  # the browser test waits for Plotly charts on pages that have them

    @property
    def exists(self) -> bool:
        return (ROOT / self.file).is_file()


HOME = PageSpec(
    "pages/home.py",
    "",
    "Home",
    ":material/home:",
    "The question, the short answer, and one-click links into each lesson.",
    "",
    has_charts=False,
)
LESSONS: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/lesson_symmetry.py",
        "symmetry",
        "Symmetry",
        ":material/content_copy:",
        "Zero, constant and small random starts side by side: do the units stay identical?",
        "Start every weight equal and the units of a layer stay clones of each other: the network "
        "trains like one unit per layer.",
    ),
    PageSpec(
        "pages/lesson_depth.py",
        "depth",
        "Depth",
        ":material/stacked_line_chart:",
        "The signal through many layers at initialization, against the mean-field prediction.",
        "Activations and gradients layer by layer: too small and they vanish, too large and they "
        "explode or saturate; 1/√fan_in scaling keeps them steady.",
    ),
    PageSpec(
        "pages/lesson_training.py",
        "training",
        "Training",
        ":material/model_training:",
        "Several init schemes trained on the same data with the same seed.",
        "Loss and accuracy curves, gradient flow and decision boundaries of several schemes trained "
        "side by side.",
    ),
    PageSpec(
        "pages/lesson_phase.py",
        "phase",
        "Phase diagram",
        ":material/grid_on:",
        "Final loss over weight scale × depth, with the theoretical trainable-depth curve.",
        "Which weight scales train at which depth: the region where deep networks learn, and the "
        "theory's curve over it.",
    ),
)
PAGES: tuple[PageSpec, ...] = (HOME, *LESSONS)


def available() -> tuple[PageSpec, ...]:
    """The pages whose file exists, home first."""
    return tuple(p for p in PAGES if p.exists)


def by_url_path(url_path: str) -> PageSpec:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)
