"""Home: the question, the three-part answer, and one-click links into each lesson on a preset.

Text only (no computation), so it opens instantly for a class.
"""

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from i18n import _
from ui import nav, presets, share

share.begin("")

st.title(_("Why should weights start near zero — and why not at zero?"))

st.markdown(
    _(
        """
Three short answers, one lesson each:

1. **Near zero.** With normalized inputs nothing tells a weight to be positive rather than negative, so
   its expected value is 0. Starting near zero keeps each unit in the range where its activation still
   responds (not saturated, not dead).
2. **Not at zero.** If the units of a layer start with equal incoming weights (zero or any constant),
   equal biases and equal outgoing weights, every unit computes the same function and receives the same
   gradient, so in exact arithmetic they stay identical at every step: the layer behaves like a single
   unit. (In floating point, rounding noise can break the tie, but too slowly and too weakly to train
   well.) Small *random* values break this symmetry.
3. **Not too small, not too large.** Each layer multiplies the signal's variance by about
   fan_in × Var(W) for tanh near 0 (and linear units), and by ½ × fan_in × Var(W) for ReLU, which zeroes
   half of its inputs (He et al. 2015). Below 1 the signal and the gradients shrink layer after layer;
   above 1 ReLU signals blow up, while tanh units saturate and the gradients explode. Scaling the weights
   by 1/√fan_in keeps the variance steady through depth: **LeCun** (Var = 1/fan_in),
   **Xavier/Glorot** (2/(fan_in + fan_out), for tanh), **He/Kaiming** (2/fan_in, for ReLU).
"""
    )
)

st.header(_("Lessons"), anchor=False)
# One row per pair of lessons, so a phone (where columns stack) lists them in the menu's order.
for i, page in enumerate(nav.LESSONS):
    if i % 2 == 0:
        cols = st.columns(2)
    with cols[i % 2].container(border=True):
        st.markdown(f"### {page.title}")
        st.caption(_("What you will see: {summary}", summary=page.you_will_see))
        for preset in presets.for_page(page.url_path):
            share.page_link(page.file, str(preset.text), preset.params, icon=":material/arrow_forward:")

share.report()

st.divider()
st.markdown(
    _(
        """
**References**

- LeCun, Bottou, Orr & Müller (1998), *Efficient BackProp*.
- Glorot & Bengio (2010), *Understanding the difficulty of training deep feedforward neural networks*.
- He, Zhang, Ren & Sun (2015), *Delving Deep into Rectifiers*.
- Saxe, McClelland & Ganguli (2013), *Exact solutions to the nonlinear dynamics of learning in deep linear
  networks*.
- Mishkin & Matas (2015), *All you need is a good init* (LSUV).
- Poole et al. (2016), *Exponential expressivity in deep neural networks through transient chaos*;
  Schoenholz et al. (2017), *Deep Information Propagation*.
"""
    )
)
