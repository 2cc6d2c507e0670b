"""The home page's one-click presets: a label and URL parameters per lesson, defined once.

Page tests reuse them: opening a preset must set the page's widgets with no "could not be used" notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from i18n import N_, LazyString, Text


@dataclass(frozen=True)
class Preset:
    page: str  # url_path of the lesson
    text: Text  # N_(...): the link's words, translated when shown (str(preset.text))
    params: dict[str, str | tuple[str, ...]] = field(default_factory=dict)  # URL key -> value(s)

    @property
    def label(self) -> str:
        """The link's English words: a stable name for tests and test ids, in every language."""
        return self.text.message if isinstance(self.text, LazyString) else str(self.text)

    def query_params(self) -> dict[str, str | list[str]]:
        """The params as st.page_link / st.query_params take them (repeated keys as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}


PRESETS: tuple[Preset, ...] = (
    Preset("symmetry", N_("all zeros"), {"init": "zeros", "bias": "zeros"}),
    Preset("symmetry", N_("constant 0.5"), {"init": "constant", "c": "0.5", "bias": "zeros"}),
    Preset("symmetry", N_("zero weights, random biases"), {"init": "zeros", "bias": "normal", "bval": "0.1"}),
    Preset("symmetry", N_("small random"), {"init": "normal", "sigma": "0.01", "bias": "zeros"}),
    Preset(
        "depth",
        N_("σ=0.01, 10 tanh layers"),
        {"init": "normal", "sigma": "0.01", "depth": "10", "act": "tanh"},
    ),
    Preset(
        "depth", N_("N(0,1), 10 tanh layers"), {"init": "normal", "sigma": "1", "depth": "10", "act": "tanh"}
    ),
    Preset(
        "depth",
        N_("CS231n: 0.01·randn, 500 tanh units, Gaussian inputs"),
        {
            "init": "normal",
            "sigma": "0.01",
            "depth": "10",
            "width": "500",
            "act": "tanh",
            "data": "gaussian",
            "dim": "500",
            "n": "1000",
        },
    ),  # fmt: skip
    Preset("depth", N_("Xavier + tanh"), {"init": "xavier_normal", "depth": "10", "act": "tanh"}),
    Preset("depth", N_("Xavier + ReLU, 30 layers"), {"init": "xavier_normal", "depth": "30", "act": "relu"}),
    Preset("depth", N_("He + ReLU, 30 layers"), {"init": "he_normal", "depth": "30", "act": "relu"}),
    Preset("depth", N_("standard uniform ±1/√d"), {"init": "standard_uniform", "depth": "10", "act": "tanh"}),
    Preset(
        "training", N_("zero vs Xavier on spirals"), {"init": ("zeros", "xavier_uniform"), "data": "spiral"}
    ),
    Preset(
        "training",
        N_("Xavier vs He at depth 30 with ReLU"),
        {"init": ("xavier_normal", "he_normal"), "depth": "30", "act": "relu"},
    ),
    Preset("phase", N_("default grid"), {}),
    Preset("modern", N_("σ=0.01, 20 tanh layers"), {"sigma": "0.01", "depth": "20", "act": "tanh"}),
    Preset("modern", N_("30 ReLU layers"), {"depth": "30", "act": "relu", "sigma": "0.01"}),
)


def for_page(page: str) -> tuple[Preset, ...]:
    """The presets of one lesson, in the home page's order."""
    return tuple(p for p in PRESETS if p.page == page)
