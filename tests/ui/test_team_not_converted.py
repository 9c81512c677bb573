"""The waterfall's caption names the deals it could not convert (issue 11, item 7)."""

from __future__ import annotations

import pandas as pd

from ui import team


def test_the_waterfall_caption_names_each_deal_left_out():
    details = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D9", "D11"],
            "customer": ["Acme", "Acme Inc", "Brit Ltd"],
            "step": ["won", "not converted", "not converted"],
            "amount": [500.0, None, None],
            "amount_local": [500.0, 700.0, 1234.5],
            "currency_code": ["EUR", "CHF", "ARS"],
        }
    )
    assert team._not_converted(details) == (
        " Not included: 2 deals in a currency with no current ECB rate: D9 (Acme Inc, CHF "
        "700.00), D11 (Brit Ltd, ARS 1,234.50). Fetch newer rates or import a rates file on "
        "the Data page to count them."
    )
    assert team._not_converted(details[details["step"] == "won"]) == ""
