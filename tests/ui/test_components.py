"""Screen helpers that need no running app: metric deltas and table date columns."""

from __future__ import annotations

import pandas as pd

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
