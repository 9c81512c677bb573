"""Screen helpers that need no running app: metric deltas and table date columns."""

from __future__ import annotations

import pandas as pd
import pytest

from ui import components


def test_a_zero_delta_is_neutral_and_has_no_arrow():
    assert components.delta("0.0 pp") == {
        "delta": "0.0 pp",
        "delta_color": "off",
        "delta_arrow": "off",
    }
    assert components.delta("€0")["delta_arrow"] == "off"
    assert components.delta("+1.2%") == {"delta": "+1.2%"}
    assert components.delta(None) == {"delta": None}


def test_day_columns_show_as_dates_not_midnight_timestamps():
    frame = pd.DataFrame(
        {
            "close_date": pd.to_datetime(["2026-12-15", None]),
            "logged_at": pd.to_datetime(["2026-12-15 09:30:00", "2026-12-16 00:00:00"]),
            "amount": [1.0, 2.0],
        }
    )
    config = components.date_columns(frame)
    assert list(config) == ["close_date"]
    assert config["close_date"]["type_config"]["format"] == "D MMM YYYY"
    assert list(components.date_columns(frame.style)) == ["close_date"]


def test_table_percentages_have_one_decimal_like_the_cards():
    import streamlit as st

    frame = pd.DataFrame({"Growth": [0.0908, -0.0125, None], "Units": [1.0, 2.0, 3.0]})
    percent = st.column_config.NumberColumn(format="percent", help="Growth vs Q2")
    config = {"Growth": percent, "Units": st.column_config.NumberColumn(format="localized")}
    shown, shown_config = components.one_decimal_percentages(frame, config)
    # 9.08 % is shown as "9.1%" (sprintf "%.1f%%" of 9.08), as formatting.percent shows it.
    assert shown["Growth"].tolist()[:2] == pytest.approx([9.08, -1.25])
    assert shown_config["Growth"]["type_config"]["format"] == "%.1f%%"
    assert shown_config["Growth"]["help"] == "Growth vs Q2"
    assert shown_config["Units"] == config["Units"]
    assert frame["Growth"].iloc[0] == 0.0908  # the caller's frame (the download) untouched
    assert config["Growth"]["type_config"]["format"] == "percent"
    # A Styler keeps its fractions (its colour rules compare them) and formats them.
    styled, styled_config = components.one_decimal_percentages(frame.style, config)
    assert styled_config["Growth"]["type_config"]["format"] is None
    html = styled.to_html()
    assert "9.1%" in html and "-1.2%" in html and "9.08" not in html
