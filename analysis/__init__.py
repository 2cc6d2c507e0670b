"""Records -> numbers and computed sentences; pure: no streamlit, no plotly."""
