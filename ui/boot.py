"""Imports the app's libraries and modules once, one script thread at a time: the first import of every script.

When a server has just started (a deploy, or Community Cloud waking the app) and several students open
different pages in the same second, their script threads import numpy, pandas and plotly in parallel. Python
breaks the circular waits between such imports by handing one thread a partially initialized module
("partially initialized module 'numpy' has no attribute 'ndarray'"), and that student gets an error page
(found by benchmarks/ws_load.py, docs/classroom.md). Python's lock on this module makes every other script
wait here until the first has imported everything below; after that, importing it costs nothing.
"""

# ruff: noqa: F401 - imported for their side effect: loaded once, under this module's import lock
import babel.messages.mofile
import babel.messages.pofile
import babel.numbers
import numpy
import pandas
import plotly.graph_objects
import plotly.io
import plotly.subplots

import core.config
import core.data
import core.diagnostics
import core.initializers
import core.mlp
import core.phase
import core.records
import core.theory
import core.train
import figures.depth
import figures.phase
import figures.style
import figures.symmetry
import figures.training
import i18n
import i18n.numbers
import ui.charts
import ui.controls
import ui.i18n
import ui.nav
import ui.presets
import ui.runs
import ui.share
