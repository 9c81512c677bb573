"""The company's own funnel: kept from an opportunities import, ordered by its probability
column (else as first seen), editable, and what the Team figures are ordered by."""

from __future__ import annotations

import pytest

from analytics import importer
from analytics.crm import deals, stages
from analytics.crm.scope import Scope

HEADER = (
    "As of,Opportunity ID,Account Name,Opportunity Owner,Billing Country,Currency,Amount,Stage,"
)
CLOSE = "2024-03-20"  # in the quarter of the snapshot, 10 Jan 2024
# Salesforce's stage names, the file sorted so that first seen is not the funnel order.
WITH_PROBABILITY = (
    HEADER + "Probability (%),Created Date,Close Date\n"
    f"2024-01-10,F1,Acme,Rita Rep,DE,EUR,1000,Negotiation/Review,90,2024-01-02,{CLOSE}\n"
    f"2024-01-10,F2,Acme,Rita Rep,DE,EUR,2000,Needs Analysis,20,2024-01-02,{CLOSE}\n"
    f"2024-01-10,F3,Acme,Rita Rep,DE,EUR,3000,Closed Won,100,2024-01-02,2024-01-09\n"
    f"2024-01-10,F4,Acme,Rita Rep,DE,EUR,4000,Proposal/Price Quote,75,2024-01-02,{CLOSE}\n"
    f"2024-01-10,F5,Acme,Rita Rep,DE,EUR,5000,Needs Analysis,10,2024-01-02,{CLOSE}\n"
)


def load(con, text: str) -> importer.Report:
    report = importer.import_file(con, "opportunities", text.encode(), "deals.csv")
    assert report.status == "loaded", report.rejected
    return report


def test_the_funnel_follows_the_probability_column(fixture_con):
    report = load(fixture_con, WITH_PROBABILITY)
    assert report.new_stages == [
        "Negotiation/Review",
        "Needs Analysis",
        "Closed Won",
        "Proposal/Price Quote",
    ]
    # Needs Analysis: the median of 20 % and 10 %.
    assert stages.funnel(fixture_con) == (
        stages.Stage("Needs Analysis", "open", pytest.approx(0.15)),
        stages.Stage("Proposal/Price Quote", "open", pytest.approx(0.75)),
        stages.Stage("Negotiation/Review", "open", pytest.approx(0.9)),
        stages.Stage("Closed Won", "won", pytest.approx(1.0)),
    )
    assert stages.open_stages(fixture_con) == (
        "Needs Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
    )
    # A re-import brings no new stage: the funnel and the deals stay as they are.
    again = importer.import_file(fixture_con, "opportunities", WITH_PROBABILITY.encode(), "d.csv")
    assert again.status == "unchanged" and again.new_stages == []


def test_without_probability_the_order_first_seen(fixture_con):
    text = (
        HEADER
        + "Created Date,Close Date\n"
        + "".join(
            f"2024-01-10,G{i},Acme,Rita Rep,DE,EUR,100,{stage},2024-01-02,{CLOSE}\n"
            for i, stage in enumerate(["Angebot", "Erstkontakt", "Verhandlung", "Erstkontakt"])
        )
    )
    load(fixture_con, text)
    assert stages.open_stages(fixture_con) == ("Angebot", "Erstkontakt", "Verhandlung")
    # A later file's new stage with a probability, where no stored stage has one, goes after
    # the open stages: the stored order is kept.
    later = HEADER + "Probability,Created Date,Close Date\n"
    later += f"2024-01-10,G9,Acme,Rita Rep,DE,EUR,100,Bedarf,30,2024-01-02,{CLOSE}\n"
    load(fixture_con, later)
    assert stages.open_stages(fixture_con) == ("Angebot", "Erstkontakt", "Verhandlung", "Bedarf")


def test_an_edit_changes_the_team_funnel_order_and_renames_deals(fixture_con):
    load(fixture_con, WITH_PROBABILITY)
    scope = Scope(currency="EUR")
    before = deals.pipeline_view(fixture_con, scope)["funnels"][0]
    assert list(before["stage"]) == ["Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"]
    assert list(before["deals"]) == [2, 1, 1]

    edited = (
        stages.Stage("Discovery", "open", 0.15),  # renamed from Needs Analysis
        stages.Stage("Negotiation/Review", "open", 0.9),  # moved up
        stages.Stage("Proposal/Price Quote", "open", 0.75),
        stages.Stage("Closed Won", "won", 1.0),
    )
    counts = stages.save(fixture_con, edited, {"Needs Analysis": "Discovery"})
    assert counts == {"renamed": 2, "restatused": 0}
    after = deals.pipeline_view(fixture_con, scope)["funnels"][0]
    assert list(after["stage"]) == ["Discovery", "Negotiation/Review", "Proposal/Price Quote"]
    assert list(after["deals"]) == [2, 1, 1]
    assert list(after["amount"]) == list(before["amount"][[0, 2, 1]])
    assert fixture_con.execute(
        "SELECT count(*) FROM opportunity_snapshots WHERE stage = 'Needs Analysis'"
    ).fetchone() == (0,)


def test_a_funnel_that_would_lose_deals_is_refused(fixture_con):
    load(fixture_con, WITH_PROBABILITY)
    kept = stages.funnel(fixture_con)[1:]
    with pytest.raises(stages.FunnelError, match="Stored deals are in Needs Analysis"):
        stages.save(fixture_con, kept)
    twice = (*kept, stages.Stage("needs analysis"))
    with pytest.raises(stages.FunnelError, match="Two stages are called"):
        stages.save(fixture_con, (stages.Stage("Proposal/Price Quote"), *twice))
    with pytest.raises(stages.FunnelError, match="from 0 % to 100 %"):
        stages.save(fixture_con, (stages.Stage("Needs Analysis", "open", 1.5), *kept))
    assert stages.open_stages(fixture_con)[0] == "Needs Analysis"  # nothing was written


def test_a_stage_marked_won_wins_its_deals(fixture_con):
    load(fixture_con, WITH_PROBABILITY)
    funnel = [
        stages.Stage(s.name, "won" if s.name == "Negotiation/Review" else s.status, s.probability)
        for s in stages.funnel(fixture_con)
    ]
    assert stages.save(fixture_con, tuple(funnel)) == {"renamed": 0, "restatused": 1}
    assert fixture_con.execute(
        "SELECT status, forecast_category FROM opportunities WHERE opportunity_id = 'F1'"
    ).fetchone() == ("won", "commit")
