"""The yardstick: a bare Flask + Jinja page rendering the same 50 rows as the dashboard's page 2."""

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
