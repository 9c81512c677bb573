"""Sales Atlas analytics: the DuckDB store, exchange rates and every figure the app shows.

This package never imports streamlit (a test enforces it); the app's `ui/` layer calls it.
"""
