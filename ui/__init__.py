"""The Streamlit layer: the only code that imports both streamlit and analytics."""
