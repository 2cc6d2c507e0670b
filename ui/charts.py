"""Draw a Plotly figure in a page the same way everywhere: template, the language's separators, full width.

Pages call `charts.show(fig, key=..., alt=...)`; extra keyword arguments (on_select, ...) go to st.plotly_chart.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui import i18n, style

CONFIG = {"displayModeBar": False}


def show(fig: go.Figure, *, key: str | None = None, alt: str | None = None, **kwargs: Any) -> Any:
    """st.plotly_chart with the shared template and settings; returns what st.plotly_chart returns."""
    fig = style.apply(fig)
    fig.update_layout(separators=i18n.plotly_separators())  # ticks and hover labels: 0,5 / 1.000 in German
    return st.plotly_chart(fig, width="stretch", config=CONFIG, key=key, alt=alt, **kwargs)
