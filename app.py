"""Sales Atlas: page config, navigation and the global filter sidebar. No SQL, no math."""

import streamlit as st

from ui import cache, filters

st.set_page_config(page_title="Sales Atlas", page_icon="🌍", layout="wide")

cache.ensure_store()
catalog = cache.load_catalog(cache.database_version())

# Emoji icons, not :material/...: ones, which make the browser fetch a font from a public host.
page = st.navigation([st.Page("pages/overview.py", title="Overview", icon="🌍", default=True)])
if catalog.has_sales:
    st.session_state["filters"] = filters.sidebar_filters(catalog)
page.run()
