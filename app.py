"""Sales Atlas: page config, navigation and the global filter sidebar. No SQL, no math."""

import streamlit as st

from ui import access, cache, errors, filters, warmup

st.set_page_config(page_title="Sales Atlas", page_icon="🌍", layout="wide")

# Emoji icons, not :material/...: ones, which make the browser fetch a font from a public host.
# Navigation comes first so that the first-start build shows the real menu, not file names.
# Page scripts live in views/, not DESIGN's pages/: a pages/ folder next to app.py switches
# Streamlit 1.67 into its legacy multipage mode for a deep link that is the first request after
# a server start (tests/test_architecture.py guards it).
page = st.navigation(
    [
        st.Page("views/overview.py", title="Overview", icon="🌍", default=True),
        st.Page("views/markets.py", title="Markets", icon="🗺️"),
        st.Page("views/review.py", title="Quarterly review", icon="📊"),
        st.Page("views/pricing.py", title="Pricing lab", icon="💱"),
        st.Page("views/team.py", title="Team & pipeline", icon="👥"),
        st.Page("views/forecast.py", title="Forecast", icon="🔮"),
        st.Page("views/data.py", title="Data", icon="🗄️"),
    ]
)

# Every page goes through the one error path (ui/errors.py), the store and filters included.
with errors.page():
    cache.ensure_store()
    # A background thread fills the caches the pages read, once per store version.
    warmup.start()
    # The gate comes before any figure: without a user it shows sign-in / no access and stops.
    access.gate()
    catalog = cache.load_catalog(cache.database_version())
    if catalog.has_sales:
        st.session_state["filters"] = filters.sidebar_filters(catalog)
        # A new store version is warmed for the views sessions are on before it is served.
        warmup.note_view(page.url_path, st.session_state["filters"])
    page.run()
