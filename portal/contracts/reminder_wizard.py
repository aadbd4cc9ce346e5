"""The reminder wizard ("Relancer par Mail ou SMS"): selection, recipients, number fixes, preview.

A draft campaign is the selection: the contracts page's filter (typology "Contrat de travail")
minus the contracts unchecked there, minus the employees unchecked in the dialog, so that 10,000
selected contracts never travel as 10,000 ids. Reminders go per employee: one message names all
his unsigned contracts and carries a signed link to his space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from email_validator import EmailNotValidError
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from portal.contracts import manage, signature_sync
from portal.contracts import selection as page_selection
from portal.core import audit, clock, tokens
from portal.core.exceptions import InvalidInput, Refused
from portal.core.extensions import db
from portal.core.tenancy import Tenancy
from portal.core.validators import checked_email
from portal.integrations import sms_encoding
from portal.messaging import notifications, sms_rules
from portal.models import Contract, Employee, Organisation, ReminderCampaign, User
from portal.models.contracts import EMPLOYMENT
from portal.models.users import to_e164

EMPLOYEE_SPACE = "employee-space"
EMPLOYEE_SPACE_MAX_AGE = 30 * 24 * 3600


class ReminderError(InvalidInput):
    """A wizard step that cannot go on as asked."""


def require_option(tenancy: Tenancy) -> None:
    manage.require_agency(tenancy)
    if not tenancy.organisation.reminders_enabled:
        raise Refused(
            _l(
                "Option non souscrite : les relances par Mail ou SMS sont une option payante. "
                "Contactez le support pour l'activer."
            )
        )


def filters_of(campaign: ReminderCampaign) -> manage.Filters:
    return manage.filters_from(MultiDict(campaign.filters))


def start(
    tenancy: Tenancy, user: User, channel: str, filters: manage.Filters, shown: list[int], checked: list[int]
) -> ReminderCampaign:
    """Open the wizard on the contracts page's filter, minus the rows unchecked there: on this page
    (``shown`` / ``checked``) and on the others (the selection kept for this filter)."""
    require_option(tenancy)
    if channel not in ("sms", "email"):
        raise ReminderError({"channel": _l("Choisissez « Relancer par Mail » ou « Relancer par SMS ».")})
    typology = next((t for t in manage.typologies(tenancy.organisation.id) if t.id == filters.typology_id), None)
    if typology is None or typology.code != EMPLOYMENT:
        raise ReminderError({"channel": _l("Les relances concernent uniquement la typologie « Contrat de travail ».")})
    excluded = page_selection.update(tenancy, user, filters, shown, checked)
    campaign = ReminderCampaign(
        agency_id=tenancy.organisation.id,
        created_by_id=user.id,
        channel=channel,
        filters=filters.args(page=1),
        excluded_contract_ids=sorted(excluded),
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def campaign_of(tenancy: Tenancy, campaign_id: int, *, draft: bool = False, reading: bool = False) -> ReminderCampaign:
    """One of the agency's campaigns, or 404. ``reading``: a past campaign stays readable once the
    option is switched off (its history is the agency's); anything that sends needs the option."""
    if reading:
        manage.require_agency(tenancy)
    else:
        require_option(tenancy)
    campaign = db.session.get(ReminderCampaign, campaign_id)
    if campaign is None or campaign.agency_id != tenancy.organisation.id:
        raise NotFound()
    if draft and campaign.status != "draft":
        raise ReminderError({"campaign": _l("Cette relance est déjà confirmée : elle ne peut plus changer.")})
    return campaign


@dataclass
class Person:
    employee: EmployeeRow
    contracts: list[ContractRow] = field(default_factory=list)
    excluded: bool = False


@dataclass
class Selection:
    campaign: ReminderCampaign
    people: list[Person]
    valid: list[Person]  # a usable email or mobile, for the campaign's channel
    wrong: list[Person]  # SMS: a number kept as typed, to correct
    unusable: list[Person]  # no email / no mobile at all

    @property
    def contracts_count(self) -> int:
        return sum(len(p.contracts) for p in self.people)

    @property
    def recipients(self) -> list[Person]:
        return [p for p in self.valid if not p.excluded]


def usable_email(address: str | None) -> bool:
    if not address:
        return False
    try:
        checked_email(address)
    except EmailNotValidError:
        return False
    return True


@dataclass(frozen=True)
class EmployeeRow:
    id: int
    first_name: str
    last_name: str
    email: str | None
    mobile_phone: str | None
    mobile_phone_raw: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class ContractRow:
    id: int
    reference: str
    mission_start: date


def selection(tenancy: Tenancy, campaign: ReminderCampaign) -> Selection:
    """Every employee the selection covers, with his contracts: one query of plain rows (a campaign
    may cover 10,000 contracts; ORM objects would cost more than the query)."""
    filters = filters_of(campaign)
    excluded_contracts = set(campaign.excluded_contract_ids)
    rows = db.session.execute(
        manage.matching(tenancy.organisation.id, filters, employee=True)
        .with_only_columns(
            Contract.id,
            Contract.reference,
            Contract.mission_start,
            Employee.id,
            Employee.first_name,
            Employee.last_name,
            Employee.email,
            Employee.mobile_phone,
            Employee.mobile_phone_raw,
        )
        .order_by(Employee.last_name, Employee.first_name, Employee.id, Contract.mission_start)
    ).all()
    people: dict[int, Person] = {}
    excluded_people = set(campaign.excluded_employee_ids)
    for contract_id, reference, start, employee_id, *employee in rows:
        if contract_id in excluded_contracts:
            continue
        person = people.get(employee_id)
        if person is None:
            person = people[employee_id] = Person(
                EmployeeRow(employee_id, *employee), excluded=employee_id in excluded_people
            )
        person.contracts.append(ContractRow(contract_id, reference, start))
    everyone = list(people.values())
    if campaign.channel == "sms":
        valid = [p for p in everyone if p.employee.mobile_phone]
        wrong = [p for p in everyone if not p.employee.mobile_phone and p.employee.mobile_phone_raw]
        unusable = [p for p in everyone if not p.employee.mobile_phone and not p.employee.mobile_phone_raw]
    else:
        valid = [p for p in everyone if usable_email(p.employee.email)]
        wrong = []
        unusable = [p for p in everyone if not usable_email(p.employee.email)]
    return Selection(campaign, everyone, valid, wrong, unusable)


def keep(tenancy: Tenancy, campaign_id: int, kept_employee_ids: list[int]) -> ReminderCampaign:
    """ "Relancer ces salariés": the employees left checked in the dialog."""
    campaign = campaign_of(tenancy, campaign_id, draft=True)
    chosen = selection(tenancy, campaign)
    kept = set(kept_employee_ids)
    campaign.excluded_employee_ids = sorted(p.employee.id for p in chosen.valid if p.employee.id not in kept)
    if not any(p.employee.id in kept for p in chosen.valid):
        raise ReminderError({"recipients": _l("Cochez au moins un salarié à relancer.")})
    db.session.commit()
    return campaign


def to_french_mobile(raw: str) -> str:
    """A French mobile (06/07 but not 0700, or overseas) in E.164, or the message for the field."""
    try:
        return to_e164(raw, mobile=True)
    except ValueError as exc:
        raise ReminderError(
            {"phone": _l("Ce numéro n'est pas un mobile français valide (06, 07 sauf 0700, ou mobile d'outre-mer).")}
        ) from exc


def fix_phone(tenancy: Tenancy, user: User, employee_id: int, raw: str) -> Employee:
    """Correct a wrong mobile number from the SMS dialog; saved to the employee and audited."""
    require_option(tenancy)
    employee = db.session.get(Employee, employee_id)
    if employee is None or employee.agency_id != tenancy.organisation.id:
        raise NotFound()
    number = to_french_mobile(raw.strip())
    previous = employee.mobile_phone or employee.mobile_phone_raw
    employee.mobile_phone, employee.mobile_phone_raw = number, None
    audit.record(
        "employee.phone_corrected",
        user_id=user.id,
        organisation_id=tenancy.organisation.id,
        employee_id=employee.id,
        previous=previous,
        phone=number,
    )
    db.session.commit()
    return employee


def space_link(employee) -> str:
    token = tokens.make(EMPLOYEE_SPACE, {"e": employee.id})
    return url_for("employee_space.show", token=token, _external=True)


def _dates(items: list[ContractRow]) -> str:
    return ", ".join(f"{c.reference} ({c.mission_start:%d/%m})" for c in items)


def sms_text(agency_name: str, person: Person, link: str) -> str:
    count = len(person.contracts)
    what = "1 contrat" if count == 1 else f"{count} contrats"
    return f"{agency_name} : {what} à signer ({_dates(person.contracts)}). Signez ici : {link}"


@dataclass(frozen=True)
class Preview:
    selection: Selection
    bodies: list[str]  # per recipient: the SMS text, or the link of the email
    encodings: list[sms_encoding.Encoding]
    example: str
    encoding: sms_encoding.Encoding
    segments_min: int
    segments_max: int
    segments_total: int
    cost: Decimal
    sends_at: object  # aware datetime: now, or the next opening of the SMS hours
    scheduled: bool
    email: tuple[str, str] | None = None  # the first recipient's email: subject and text, as sent


def preview(tenancy: Tenancy, campaign: ReminderCampaign, now=None) -> Preview:
    """The final confirmation: the exact message, its encoding, segments, cost and when it goes."""
    chosen = selection(tenancy, campaign)
    name = tenancy.organisation.legal_name
    links = [space_link(p.employee) for p in chosen.recipients]
    if campaign.channel == "sms":
        texts = [sms_text(name, p, link) for p, link in zip(chosen.recipients, links, strict=True)]
    else:
        texts = links  # the email is rendered from its template; what varies is the link
    encodings = [sms_encoding.encoding_of(text) for text in texts] or [sms_encoding.encoding_of("")]
    total = sum(e.segments for e in encodings) if texts and campaign.channel == "sms" else 0
    moment = now or clock.now()
    opening = sms_rules.next_opening(moment) if campaign.channel == "sms" else moment
    email = None
    if campaign.channel == "email" and chosen.recipients:
        first = chosen.recipients[0]
        subject, text, _html = notifications.render_email(
            "contract_reminder",
            agency=tenancy.organisation,
            employee=first.employee,
            count=len(first.contracts),
            references=[c.reference for c in first.contracts],
            link=links[0],
        )
        email = (subject, text)
    return Preview(
        chosen,
        texts,
        encodings,
        texts[0] if texts else "",
        encodings[0],
        min(e.segments for e in encodings),
        max(e.segments for e in encodings),
        total,
        sms_rules.cost(total),
        opening,
        opening > moment.astimezone(clock.PARIS),
        email,
    )


def employee_space(token: str) -> tuple[Employee, list[Contract]]:
    """The page an employee reaches from a reminder: his contracts awaiting signature (each with
    how to sign it: ``signing_links``)."""
    payload = tokens.read(EMPLOYEE_SPACE, token, EMPLOYEE_SPACE_MAX_AGE)
    employee = db.session.get(Employee, payload.get("e"))
    if employee is None:
        raise NotFound()
    waiting = db.session.scalars(
        select(Contract)
        .where(Contract.employee_id == employee.id, Contract.status == manage.AWAITING)
        .order_by(Contract.mission_start)
    ).all()
    return employee, list(waiting)


def agency_of(employee: Employee) -> Organisation:
    return db.session.get(Organisation, employee.agency_id)


def signing_links(contracts: list[Contract], token: str) -> dict[int, str]:
    """Where each electronic contract is signed: the signer's link at Yousign, or the simulator's
    local page. A paper contract (no signature request) has none: it is signed at the agency."""
    client = signature_sync.provider()
    links = {}
    for contract in contracts:
        if not contract.esign_request_id:
            continue
        if current_app.config["ESIGN_BACKEND"] == "yousign":
            link = client.signing_link(contract.esign_request_id)
        else:
            link = url_for("employee_space.simulated_sign", token=token, contract_id=contract.id)
        if link:
            links[contract.id] = link
    return links


def simulated_contract(token: str, contract_id: int) -> tuple[Employee, Contract]:
    """The contract the simulator's signing page is about, or 404: with the simulator only, and
    only an electronic contract of this employee still awaiting signature."""
    if current_app.config["ESIGN_BACKEND"] != "simulator":
        raise NotFound()
    employee, waiting = employee_space(token)
    contract = next((c for c in waiting if c.id == contract_id and c.esign_request_id), None)
    if contract is None:
        raise NotFound()
    return employee, contract


def sign_in_simulator(contract: Contract) -> None:
    """The employee signs on the simulator's page: the simulated provider says "done" and the
    contract is signed electronically at once (as Yousign's webhook would)."""
    signature_sync.simulator().set(contract.esign_request_id, "done")
    signature_sync.mark_signed_electronically(contract.id, source="simulator")
    db.session.commit()
