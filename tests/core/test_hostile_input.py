"""What a hostile or odd request gets: a clear French answer, never a 500 — on PostgreSQL too.

PostgreSQL refuses a NUL character in text and integers past 2³¹ − 1 where SQLite says nothing;
Unicode digits ("²", "٣") pass ``str.isdigit`` but are no page number.
"""

from __future__ import annotations

import pytest

from tests.support.http import HTMX, post, token_for

NUL_MESSAGE = "Un caractère invalide (caractère nul)"


def test_a_nul_character_in_the_login_form_is_refused_in_french(client, demo):
    token = token_for(client)
    answer = client.post("/login", data={"email": "fournisseur@vigie.test\x00", "password": "x", "csrf_token": token})
    assert answer.status_code == 400 and NUL_MESSAGE in answer.get_data(as_text=True)
    answer = client.post(
        "/login", data={"email": "a\x00@vigie.test", "password": "x", "csrf_token": token}, headers=HTMX
    )
    assert answer.status_code == 400 and NUL_MESSAGE in answer.get_data(as_text=True)


def test_a_nul_character_in_a_repeated_field_is_refused_too(client, auth, demo):
    auth.login("constructor@vigie.test")
    token = token_for(client, "/partners/requirements")
    answer = client.post("/partners/requirements", data={"csrf_token": token, "types": ["KBIS", "URSSAF\x00"]})
    assert answer.status_code == 400 and NUL_MESSAGE in answer.get_data(as_text=True)


def test_a_nul_character_in_a_query_or_a_path_is_refused_in_french(client, auth, demo):
    auth.login("constructor@vigie.test")
    for url in ("/partners/new?q=Menui\x00serie", "/partners/compliance?search=%00", "/docu%00ments"):
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert NUL_MESSAGE in answer.get_data(as_text=True), url


@pytest.mark.parametrize("huge", ["2147483648", "99999999999999999999"])
def test_an_id_past_the_integer_range_is_not_found(client, auth, demo, huge):
    auth.login("constructor@vigie.test")
    assert client.get(f"/partners/companies/{huge}").status_code == 404
    assert client.get(f"/partners/companies/1/versions/{huge}/download").status_code == 404


@pytest.mark.parametrize("page", ["²", "٣", "99999999999999999999", "-1", "0"])
def test_odd_page_numbers_show_the_first_page(client, auth, demo, page):
    auth.login("operateur@vigie.test")
    assert client.get(f"/operations/review?page={page}").status_code == 200
    assert client.get(f"/operations/deliveries?page={page}").status_code == 200
    post(client, "/logout")
    auth.login("constructor@vigie.test")
    assert client.get(f"/partners/compliance?page={page}").status_code == 200


def test_unicode_digits_as_an_organisation_or_partner_id_are_a_bad_request(client, auth, demo):
    auth.login("constructor@vigie.test")
    assert post(client, "/organisations/switch", {"organisation_id": "²"}).status_code == 400
    assert post(client, "/partners/request", {"target_id": "٣²"}).status_code == 400
