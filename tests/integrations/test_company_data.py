"""Company data by SIRET: the API Recherche d'entreprises client against a local server answering as the
API documents (success, unknown, 429 with Retry-After, 5xx, timeout), and the bundled directory."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.integrations.company_data import (
    USER_AGENT,
    LookupUnavailable,
    OfflineDirectory,
    RechercheEntreprises,
)

RESULT = {
    "siren": "521087437",
    "nom_complet": "CONSTRUCTOR SA",
    "nature_juridique": "5599",
    "activite_principale": "41.20B",
    "siege": {
        "siret": "52108743700013",
        "adresse": "8 AVENUE DE LA GRANDE ARMEE 75017 PARIS",
        "code_postal": "75017",
        "libelle_commune": "PARIS",
    },
    "dirigeants": [],
    "matching_etablissements": [
        {
            "siret": "52108743700021",
            "adresse": "2 RUE DU CHANTIER 92000 NANTERRE",
            "code_postal": "92000",
            "libelle_commune": "NANTERRE",
        }
    ],
}


class FakeApi:
    def __init__(self):
        self.requests: list[Request] = []
        self.answers: list[tuple[int, dict, dict]] = []  # queued (status, body, headers)
        self.delay = 0.0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request: Request) -> Response:
        self.requests.append(request)
        time.sleep(self.delay)
        if self.answers:
            status, body, headers = self.answers.pop(0)
            return Response(json.dumps(body), status, headers=headers, content_type="application/json")
        query = request.args.get("q", "")
        results = [RESULT] if query.startswith("521087437") else []
        body = {"results": results, "total_results": len(results), "page": 1, "per_page": 10, "total_pages": 1}
        return Response(json.dumps(body), 200, content_type="application/json")


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.server.shutdown()


def test_a_siret_fills_the_company_data_from_its_establishment(api):
    client = RechercheEntreprises(api.url)
    data = client.lookup("52108743700021")
    assert (data.siren, data.name, data.legal_form, data.naf_code) == ("521087437", "CONSTRUCTOR SA", "5599", "41.20B")
    assert (data.postal_code, data.city) == ("92000", "NANTERRE")  # the matching establishment, not the seat
    request = api.requests[0]
    assert request.path == "/search" and request.args["q"] == "52108743700021"
    assert request.headers["User-Agent"] == USER_AGENT
    assert client.lookup("52108743700021") == data and len(api.requests) == 1  # cached


def test_an_unknown_siret_is_none_so_the_user_continues_by_hand(api):
    assert RechercheEntreprises(api.url).lookup("81234567600017") is None


def test_429_is_honoured_once_with_its_retry_after(api):
    api.answers.append((429, {"message": "Too many requests"}, {"Retry-After": "0.2"}))
    started = time.monotonic()
    data = RechercheEntreprises(api.url).lookup("52108743700013")
    assert data.name == "CONSTRUCTOR SA" and time.monotonic() - started >= 0.2 and len(api.requests) == 2


def test_a_long_retry_after_or_a_second_429_gives_up(api):
    api.answers.append((429, {}, {"Retry-After": "60"}))
    with pytest.raises(LookupUnavailable, match="rate limited"):
        RechercheEntreprises(api.url).lookup("52108743700013")
    api.answers.extend([(429, {}, {"Retry-After": "0"}), (429, {}, {"Retry-After": "0"})])
    with pytest.raises(LookupUnavailable, match="HTTP 429"):
        RechercheEntreprises(api.url).lookup("52108743700013")


def test_server_errors_and_timeouts_are_unavailable_not_crashes(api):
    api.answers.append((503, {}, {}))
    with pytest.raises(LookupUnavailable, match="503"):
        RechercheEntreprises(api.url).lookup("52108743700013")
    api.delay = 1.0
    with pytest.raises(LookupUnavailable, match="Timeout"):
        RechercheEntreprises(api.url, timeout=0.2).lookup("52108743700013")


def test_the_bundled_directory_knows_the_demo_companies_offline():
    directory = OfflineDirectory()
    assert directory.lookup("44327890800019").name == "CABINET DURAND & ASSOCIES"
    assert directory.lookup("50100001200127").city == "MARSEILLE"
    assert directory.lookup("12345678900000") is None
