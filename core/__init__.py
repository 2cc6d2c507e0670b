"""Init Lab's engine: initializers, a numpy MLP, training with per-layer diagnostics, theory.

Pure numpy (plus scikit-learn for the bundled digits and pandas for tables); never streamlit or plotly.
"""
