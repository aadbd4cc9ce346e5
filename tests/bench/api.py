"""``make bench``, the public API: ``GET /api/v1/suppliers`` (1,000 accepted partners, 50 a page, the
second page by cursor) beside a bare Flask endpoint returning the same rows as JSON from one query;
the SQL statements of a page are counted at 100 and at 1,000 partners (they must not grow).
"""

from __future__ import annotations

import requests
from sqlalchemy import select

from portal.core.extensions import db
from portal.models import Organisation, Partnership
from tests.bench.dashboard import bench_app, compare, serve, server_env
from tests.bench.dashboard import seed as seed_partners

PARTNERS = 1_000


def key_and_cursor(client_id: int) -> tuple[str, int]:
    """An API key of Constructor SA (its demo owner's) and the cursor of the second page."""
    from portal.api import keys
    from portal.core.tenancy import Tenancy
    from portal.models import Membership, User

    app = bench_app()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == "constructor@vigie.test"))
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == client_id)
        )
        db.session.refresh(membership, ["organisation"])
        _key, secret = keys.create(
            Tenancy(membership=membership, memberships=[membership]),
            user,
            name="bench",
            scopes=["suppliers:read"],
            expires_on=None,
        )
        cursor = db.session.scalars(
            select(Partnership.id)
            .where(Partnership.requester_id == client_id, Partnership.status == "accepted")
            .order_by(Partnership.id)
            .limit(50)
        ).all()[-1]
        db.engine.dispose()
    return secret, cursor


def statements(secret: str, cursor: int) -> int:
    from tests.support.data import count_queries

    app = bench_app(RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    client.get(f"/api/v1/suppliers?cursor={cursor}", headers=headers)
    with count_queries(app) as seen:
        answer = client.get(f"/api/v1/suppliers?cursor={cursor}", headers=headers)
        assert answer.status_code == 200 and len(answer.get_json()["data"]) == 50
    with app.app_context():
        db.engine.dispose()
    return len(seen)


def main() -> None:
    import logging

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    small = statements(*key_and_cursor(seed_partners(PARTNERS // 10)))
    client_id = seed_partners(PARTNERS)
    secret, cursor = key_and_cursor(client_id)
    large = statements(secret, cursor)
    print(f"GET /api/v1/suppliers: {small} SQL statements at {PARTNERS // 10} partners, {large} at {PARTNERS}")
    assert small == large, "the statements grow with the rows"
    env = server_env(BENCH_CLIENT_ID=client_id, BENCH_CURSOR=cursor, API_RATE_LIMIT="1000000 per minute")
    ours, ours_base = serve("wsgi:app", env)
    bare, bare_base = serve("tests.bench.bare_app:app", env)
    try:

        def session() -> requests.Session:
            made = requests.Session()
            made.headers["Authorization"] = f"Bearer {secret}"
            return made

        page = session().get(f"{ours_base}/api/v1/suppliers?cursor={cursor}").json()
        bare_page = requests.get(f"{bare_base}/api/suppliers").json()
        assert [row["siren"] for row in page["data"]] == [row["siren"] for row in bare_page["data"]], (
            "not the same rows"
        )
        compare(
            "GET /api/v1/suppliers",
            f"{ours_base}/api/v1/suppliers?cursor={cursor}",
            f"{bare_base}/api/suppliers",
            session,
            yardstick="bare Flask JSON",
        )
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=20)
    with bench_app().app_context():
        assert db.session.scalar(select(Organisation.id).limit(1)) is not None


if __name__ == "__main__":
    main()
