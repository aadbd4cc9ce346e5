"""The README's demo figures hold on any day of any month: seeded with the clock on the 1st, the
15th and the last day, before and after the first signature sync. The expected figures are the
README's, written out here; only the overdue ones depend on the day, as the README says."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.contracts import signature_sync
from portal.core.extensions import db
from portal.models import ContractTypology
from tests.support.data import drain
from tests.support.http import post

PARIS = ZoneInfo("Europe/Paris")


def _wizard(client, employment: int) -> str:
    from portal.models import ReminderCampaign

    post(client, "/contracts/reminders", {"channel": "sms", "typology": employment})
    with client.application.app_context():
        latest = db.session.scalar(db.select(ReminderCampaign.id).order_by(ReminderCampaign.id.desc()))
    return html.unescape(client.get(f"/contracts/reminders/{latest}").get_data(as_text=True))


@pytest.mark.parametrize(
    ("moment", "overdue"),
    [
        (datetime(2027, 2, 1, 9, 0, tzinfo=PARIS), False),  # the 1st: nothing of the month is 48 h old
        (datetime(2026, 12, 15, 16, 30, tzinfo=PARIS), True),
        (datetime(2027, 2, 28, 19, 45, tzinfo=PARIS), True),  # the last day of a short month
        (datetime(2026, 12, 31, 23, 50, tzinfo=PARIS), True),
    ],
)
def test_the_demo_figures_hold_whatever_the_day(app, client, auth, demo, monkeypatch, moment, overdue):
    from portal.demo.contracts import seed_batie_contracts

    monkeypatch.setattr("portal.core.clock.now", lambda: moment)
    with app.app_context():
        seed_batie_contracts()
        employment = db.session.scalar(db.select(ContractTypology.id).where(ContractTypology.code == "employment"))
    auth.login("agence@vigie.test")
    for step in ("before the sync", "after the sync"):
        page = html.unescape(client.get("/contracts", query_string={"typology": employment}).get_data(as_text=True))
        assert "853 contrats en attente de signature" in page, step
        counts = page.split('id="contract-counts"')[1].split("</p>")[0]
        assert bool(re.search(r"\d+ en retard", counts)) is overdue, step
        assert ("aucun en retard" in counts) is not overdue, step
        wizard = _wizard(client, employment)
        assert "604 salariés concernés par 853 contrats non signés" in wizard, step
        assert "2 numéros erronés" in wizard and "602 SMS seront envoyés" in wizard, step
        if step == "before the sync":
            with app.app_context():
                run = signature_sync.run_for_agency(demo["orgs"]["Batie Construction"], "manual")
                assert (run.checked, run.signed, run.declined) == (35, 12, 12)
            drain(app)
