"""Server cost per interaction (issue 17): the streamlit process's own CPU time and memory,
a real-browser driver for felt latency and a light websocket client for many sessions.

Run through `python benchmarks/interaction_cost.py` (see its --help and benchmarks/README.md).
"""
