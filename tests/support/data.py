"""Data a test adds to the demo world, and the queries it counts."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from stdnum import luhn

from portal.core.extensions import db
from tests.support.http import DEMO_PASSWORD


def valid_siren(seed: int) -> str:
    base = f"{seed:08d}"
    return base + luhn.calc_check_digit(base)


def other_company(app, email: str, seed: int, legal_name: str = "Intérim Rival", **flags) -> int:
    """Another company (flags such as ``is_agency=True``) and its owner; returns its id."""
    from portal.models import Membership, Organisation, User

    with app.app_context():
        organisation = Organisation(siren=valid_siren(seed), legal_name=legal_name, **flags)
        user = User(email=email, first_name="Rita", last_name="Rival")
        user.set_password(DEMO_PASSWORD)
        db.session.add_all([organisation, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role="owner"))
        db.session.commit()
        return organisation.id


def drain(app) -> list[str]:
    """Run what the test app's manual queue holds, in order."""
    return app.extensions["vigie_queue"].drain()


@contextmanager
def count_queries(app):
    """Count SQL statements run while the block executes."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def seed_world(app, with_documents: bool) -> dict:
    """The demo world in the test app; ids of companies and users by name and email."""
    from portal.demo.seed import seed_demo
    from portal.models import Organisation, User

    with app.app_context():
        seed_demo(with_documents=with_documents)
        orgs = {o.legal_name: o.id for o in db.session.scalars(db.select(Organisation))}
        users = {u.email: u.id for u in db.session.scalars(db.select(User))}
    return {"orgs": orgs, "users": users}
