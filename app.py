"""Sales Atlas: page config, navigation and the global filter sidebar. No SQL, no math."""

import streamlit as st

from ui import cache, filters

st.set_page_config(page_title="Sales Atlas", page_icon="🌍", layout="wide")

# Emoji icons, not :material/...: ones, which make the browser fetch a font from a public host.
# Navigation comes first so that the first-start build shows the real menu, not file names.
page = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon="🌍", default=True),
        st.Page("pages/markets.py", title="Markets", icon="🗺️"),
    ]
)

cache.ensure_store()
catalog = cache.load_catalog(cache.database_version())
if catalog.has_sales:
    st.session_state["filters"] = filters.sidebar_filters(catalog)
page.run()
