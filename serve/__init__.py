"""Serving more people: N `streamlit run app.py` workers behind one sticky proxy (issue 17).

Streamlit runs every session's script in one process, on one GIL, so one server has about
one core for Python whatever the machine has. `python -m serve --workers N` starts N workers
on private ports and a reverse proxy on the public port that pins each browser to one of
them by a cookie. Neither streamlit nor analytics is imported here: the workers are plain
`streamlit run` processes, and the proxy speaks HTTP and the websocket only.
"""
