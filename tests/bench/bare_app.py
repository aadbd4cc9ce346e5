"""The yardstick: bare Flask + Jinja pages rendering the same rows as the dashboard's page 2 and as
Menuiserie Martin's pending tab (each document type with its latest version)."""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["BENCH_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
QUERY = text(
    "SELECT o.legal_name, o.siren, p.compliance_status, p.expiring_count FROM partnership p "
    "JOIN organisation o ON o.id = p.target_id WHERE p.requester_id = :client AND p.status = 'accepted' "
    "ORDER BY o.legal_name, o.id LIMIT 50 OFFSET 50"
)
PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fournisseurs</title></head><body>
<table>{% for name, siren, status, expiring in rows %}<tr><td>{{ name }}</td><td>{{ siren }}</td><td>{{ status }}</td>
<td>{{ expiring }}</td></tr>{% endfor %}</table></body></html>"""


@app.get("/")
def page():
    with engine.connect() as conn:
        rows = conn.execute(QUERY, {"client": int(os.environ["BENCH_CLIENT_ID"])}).all()
    return render_template_string(PAGE, rows=rows)


PENDING = text(
    "SELECT t.label_fr, v.status, v.valid_until, r.label_fr FROM document_type t "
    "JOIN organisation o ON o.siren = '812345676' "
    "LEFT JOIN document d ON d.document_type_id = t.id AND d.organisation_id = o.id "
    "LEFT JOIN LATERAL (SELECT * FROM document_version WHERE document_id = d.id AND status <> 'archived' "
    "ORDER BY id DESC LIMIT 1) v ON true "
    "LEFT JOIN refusal_reason r ON r.id = v.refusal_reason_id "
    "WHERE t.active ORDER BY t.sort_order"
)
PENDING_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Documents</title></head><body>
<h1>Documents en attente de mise à jour</h1><ul>{% for label, status, until, reason in rows %}
<li>{{ label }} — {{ status or "manquant" }}{% if until %} ({{ until }}){% endif %}{% if reason %}
<p>{{ reason }}</p>{% endif %} <a href="#">Mettre à jour</a></li>{% endfor %}</ul></body></html>"""


@app.get("/pending")
def pending():
    with engine.connect() as conn:
        rows = conn.execute(PENDING).all()
    return render_template_string(PENDING_PAGE, rows=rows)


CONTRACTS = text(
    "SELECT e.first_name, e.last_name, c.reference, o.legal_name, t.label, c.mission_start, c.signature_deadline "
    "FROM contract c JOIN employee e ON e.id = c.employee_id LEFT JOIN organisation o ON o.id = c.client_id "
    "JOIN contract_typology t ON t.id = c.typology_id "
    "WHERE c.agency_id = :agency AND c.status = 'awaiting_signature' AND t.code = 'employment' "
    "ORDER BY c.mission_start, c.id LIMIT 50 OFFSET 50"
)
CONTRACTS_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Contrats</title></head><body>
<table>{% for first, last, ref, client, typology, start, deadline in rows %}<tr>
<td>{{ first }} {{ last }}<br>{{ ref }}</td><td>{{ client }}</td><td>{{ typology }}</td>
<td>{{ start }}</td><td>{{ deadline }}</td>
<td><form method="post"><button>Définir signé</button></form>
<form method="post"><button>Définir signé en agence</button></form></td></tr>{% endfor %}</table></body></html>"""


@app.get("/contracts")
def contracts():
    with engine.connect() as conn:
        rows = conn.execute(CONTRACTS, {"agency": int(os.environ["BENCH_AGENCY_ID"])}).all()
    return render_template_string(CONTRACTS_PAGE, rows=rows)


CLIENT_FILES = text(
    "SELECT f.id, f.name, f.siret, f.tree_status, f.executive_email, f.executive_invitation_id IS NOT NULL, "
    "(SELECT count(*) FROM folder_document d WHERE d.client_file_id = f.id AND d.seen_at IS NULL "
    "AND NOT d.from_firm) FROM client_file f WHERE f.firm_id = :firm ORDER BY f.sort_name, f.id LIMIT 50 OFFSET 50"
)
CLIENT_FILES_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Dossiers clients</title>
</head><body><table>{% for id, name, siret, tree, email, invited, new in rows %}<tr><td>
<a href="/firm/clients/{{ id }}">{{ name }}</a></td><td>{{ siret }}</td>
<td>{{ email }}{% if not invited %} (pas encore invité){% endif %}</td>
<td>{{ tree }}</td><td>{{ new or "" }}</td></tr>{% endfor %}</table></body></html>"""


@app.get("/clients")
def client_files():
    with engine.connect() as conn:
        rows = conn.execute(CLIENT_FILES, {"firm": int(os.environ["BENCH_FIRM_ID"])}).all()
    return render_template_string(CLIENT_FILES_PAGE, rows=rows)


SUPPLIERS_JSON = text(
    "SELECT p.id, o.siren, o.legal_name, p.compliance_status, p.expiring_count, p.status_updated_at, p.decided_at "
    "FROM partnership p JOIN organisation o ON o.id = p.target_id "
    "WHERE p.requester_id = :client AND p.status = 'accepted' AND p.id > :cursor ORDER BY p.id LIMIT 51"
)


@app.get("/api/suppliers")
def suppliers_json():
    with engine.connect() as conn:
        rows = conn.execute(
            SUPPLIERS_JSON, {"client": int(os.environ["BENCH_CLIENT_ID"]), "cursor": int(os.environ["BENCH_CURSOR"])}
        ).all()
    page = rows[:50]
    return {
        "data": [
            {
                "siren": row.siren,
                "legal_name": row.legal_name,
                "status": row.compliance_status,
                "expiring_documents": row.expiring_count,
                "expiring_within_days": 30,
                "status_changed_at": row.status_updated_at.isoformat() if row.status_updated_at else None,
                "partner_since": row.decided_at.isoformat() if row.decided_at else None,
            }
            for row in page
        ],
        "next_cursor": page[-1].id if len(rows) > 50 else None,
    }
