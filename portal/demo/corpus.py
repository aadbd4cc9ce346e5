"""A corpus of attestations written the way other hands write them, to measure the document reader.

Each template prints its facts and says, by hand, what a careful reader finds: the type, the
subject's SIREN, the certified date, the validity and the code. The validities come from the table
``HAND_DATES`` typed below (art. 641 CPC counted by hand), never from the code under test.
The traps are the ones real files hold: the issuer's, the insurer's, a broker's, an auditor's or a
holding's number printed beside the company's; an issue date after the situation date; facts on
a later page; words cut at a line end; ligatures; a weekday before a date; a code on the next line;
a Kbis uploaded as an URSSAF attestation.

Templates are in two groups: ``DEVELOPMENT`` (the reader was written against them) and ``HELD_OUT``
(written after, never used to tune it). ``flask precheck-report`` reports both.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from stdnum import luhn

from portal.core.pdf import new_pdf, paragraph, to_bytes
from portal.demo.samples import COMPANIES, fr_long, random_siren

# (certified, + 6 months, + 3 months), counted by hand: same day number, clamped to the month's end.
HAND_DATES = (
    (date(2026, 10, 15), date(2027, 4, 15), date(2027, 1, 15)),
    (date(2026, 8, 31), date(2027, 2, 28), date(2026, 11, 30)),
    (date(2026, 10, 1), date(2027, 4, 1), date(2027, 1, 1)),
    (date(2026, 9, 30), date(2027, 3, 30), date(2026, 12, 30)),
    (date(2026, 11, 29), date(2027, 5, 29), date(2027, 2, 28)),
    (date(2026, 7, 31), date(2027, 1, 31), date(2026, 10, 31)),
    (date(2026, 10, 27), date(2027, 4, 27), date(2027, 1, 27)),
    (date(2026, 11, 16), date(2027, 5, 16), date(2027, 2, 16)),
    (date(2026, 12, 31), date(2027, 6, 30), date(2027, 3, 31)),
    (date(2026, 5, 31), date(2026, 11, 30), date(2026, 8, 31)),
    (date(2026, 2, 28), date(2026, 8, 28), date(2026, 5, 28)),
    (date(2026, 3, 31), date(2026, 9, 30), date(2026, 6, 30)),
)
# Insurance periods as printed: (start, end).
PERIODS = (
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2026, 4, 1), date(2027, 3, 31)),
    (date(2026, 7, 15), date(2027, 7, 14)),
    (date(2026, 10, 1), date(2027, 9, 30)),
)
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass
class Expected:
    filename: str
    group: str  # "development" or "held_out"
    template: str
    chosen_type: str  # what the supplier said it is
    type: str  # what it is
    siren: str  # the subject's
    other_sirens: list[str]  # the other companies' numbers printed on it
    certified_on: str | None
    valid_until: str | None
    verification_code: str | None
    type_warning: bool = False  # the reader must say it is not the type chosen
    headcount: int | None = None  # printed on some URSSAF attestations
    name: str = ""  # the company's legal name, as the supplier's account holds it


def _siret(siren: str, rng: random.Random) -> str:
    head = f"{siren}{rng.randint(1, 9999):04d}"
    return head + luhn.calc_check_digit(head)


def _grouped(number: str) -> str:
    if len(number) == 14:
        return f"{number[:3]} {number[3:6]} {number[6:9]} {number[9:]}"
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def _long(day: date, weekday: bool = False) -> str:
    text = fr_long(day)
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def _code(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(length))


def _kbis_code(rng: random.Random) -> str:
    """Ten letters and digits in both cases, as the greffes print them ("slsz24kcdR"): case counts."""
    return rng.choice("23456789") + "".join(
        rng.choice("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9)
    )


def _qr(text: str):
    """A QR code as a Pillow image (zxing-cpp writes it)."""
    import zxingcpp
    from PIL import Image

    drawn = memoryview(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6))
    return Image.frombytes("L", (drawn.shape[1], drawn.shape[0]), bytes(drawn))


def _write(pages: list[list], title: str) -> bytes:
    """Each page's lines; a ``("qr", text)`` item draws that QR code."""
    pdf = new_pdf(title=title)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("DejaVu", "", 10)
        for line in lines:
            if isinstance(line, tuple):
                pdf.image(_qr(line[1]), w=28)
            else:
                paragraph(pdf, line, after=2)
    return to_bytes(pdf)


# Each template: (rng, company) -> (pages, facts). ``facts`` holds type, siren, others, certified,
# valid_until, code; the template knows them because it printed them.


def urssaf_plain(rng, company, dates):
    name, form, address = company
    siren, certified, six, _three = random_siren(rng), *dates
    issuer = _siret(random_siren(rng), rng)
    code = _code(rng, 15)
    pages = [
        [
            "Urssaf Rhône-Alpes",
            "Attestation de vigilance — article L.243-15 du code de la sécurité sociale",
            f"L'Urssaf atteste que l'entreprise {name} ({form}), {address},",
            f"SIREN : {_grouped(siren)}",
            f"est à jour de ses obligations de déclaration et de paiement à la date du {certified:%d/%m/%Y}.",
            f"Identifiant de sécurité : {code}",
            f"Urssaf Rhône-Alpes — 6 rue du 19 mars 1962, 69691 Vénissieux — SIRET {_grouped(issuer)}",
        ]
    ]
    return pages, ("URSSAF_VIGILANCE", siren, [issuer[:9]], certified, six, code)


def urssaf_issued_later(rng, company, dates):
    """The issue date (later) printed first, the situation date after it."""
    name, form, address = company
    siren, certified, six, _three = random_siren(rng), *dates
    issued = date.fromordinal(certified.toordinal() + rng.randint(1, 9))
    code = _code(rng, 15)
    pages = [
        [
            f"Délivrée le {issued:%d/%m/%Y}",
            "ATTESTATION DE VIGILANCE",
            f"Raison sociale : {name}",
            f"Forme juridique : {form}",
            f"Adresse : {address}",
            f"Siren : {siren}",
            f"Nous certifions que le cotisant ci-dessus est à jour de ses obligations au {_long(certified)}.",
            "Code sécurité :",
            code,
        ]
    ]
    return pages, ("URSSAF_VIGILANCE", siren, [], certified, six, code)


def urssaf_two_pages(rng, company, dates):
    """Facts on the second page, a word cut at a line end, a ligature, a weekday."""
    name, form, address = company
    siren, certified, six, _three = random_siren(rng), *dates
    holding = random_siren(rng)
    code = _code(rng, 16)
    pages = [
        [
            "Urssaf Île-de-France",
            "Attestation de fourniture des déclarations sociales et de paiement des cotisations et contributions",
            "Madame, Monsieur, vous trouverez ci-après l'attes-\ntation demandée.",
        ],
        [
            f"Le directeur certiﬁe que l'établissement {name}, n° SIRET {_grouped(_siret(siren, rng))},",
            f"dont le président est la société Holding Nord, SIREN {holding},",
            f"est à jour de ses obligations à la date du {_long(certified, weekday=True)}.",
            f"Code d'authentification : {code}",
            f"Effectif salarié déclaré : {12 + certified.day}",
            f"Fait à Montreuil, le {_long(date.fromordinal(certified.toordinal() + 2))}",
        ],
    ]
    return pages, ("URSSAF_VIGILANCE", siren, [holding], certified, six, code, 12 + certified.day)


def msa_caisse(rng, company, dates):
    name, form, address = company
    siren, certified, six, _three = random_siren(rng), *dates
    caisse = _siret(random_siren(rng), rng)
    code = _code(rng, 12)
    pages = [
        [
            "MSA Ain-Rhône — Mutualité Sociale Agricole",
            f"Caisse de MSA Ain-Rhône, SIRET {caisse}",
            "Attestation de vigilance (employeurs agricoles)",
            f"La caisse certifie que {name} ({form}), {address}, SIREN {_grouped(siren)},",
            f"est à jour de ses obligations sociales en date du {certified:%d.%m.%Y}.",
            f"Code de sécurité : {code}",
        ]
    ]
    return pages, ("URSSAF_VIGILANCE", siren, [caisse[:9]], certified, six, code)


def kbis_officers(rng, company, dates):
    name, form, address = company
    siren, certified, _six, three = random_siren(rng), *dates
    auditor, holding, greffe = random_siren(rng), random_siren(rng), _siret(random_siren(rng), rng)
    code = _kbis_code(rng)
    pages = [
        [
            "Greffe du tribunal de commerce de Lyon",
            "Extrait Kbis",
            f"Immatriculation au RCS, numéro {_grouped(siren)} R.C.S. Lyon",
            f"Dénomination : {name}",
            f"Forme juridique : {form}",
            f"Adresse du siège : {address}",
            f"Président : Holding {name.split()[0]} SAS, SIREN {_grouped(holding)}",
            f"Commissaire aux comptes : Audit Conseil Rhône, RCS Lyon {_grouped(auditor)}",
            f"Extrait délivré le {certified:%d/%m/%Y} — à jour au {certified:%d/%m/%Y}.",
            f"Code de vérification : {code}",
            ("qr", f"https://greffe.example/verification?code={code}"),
            f"Greffe du tribunal de commerce de Lyon — SIRET {greffe}",
        ]
    ]
    return pages, ("KBIS", siren, [auditor, holding, greffe[:9]], certified, three, code)


def kbis_plain_words(rng, company, dates):
    """No "Kbis" in the title; the date of issue is the registry's situation."""
    name, form, address = company
    siren, certified, _six, three = random_siren(rng), *dates
    code = _kbis_code(rng)
    pages = [
        [
            "Greffe du tribunal de commerce de Grenoble",
            "Extrait d'immatriculation principale au registre du commerce et des sociétés",
            f"Numéro d'identification : {siren} RCS Grenoble",
            f"Dénomination ou raison sociale : {name}",
            f"Date de délivrance : {_long(certified)}",
            ("qr", f"https://greffe.example/verification?code={code}&siren={siren}"),
        ]
    ]
    return pages, ("KBIS", siren, [], certified, three, code)


def insurance_insurer_number(rng, company, dates, kind="RC_PRO"):
    name, form, address = company
    siren = random_siren(rng)
    insurer = random_siren(rng)
    start, end = PERIODS[rng.randrange(len(PERIODS))]
    title = "Attestation d'assurance " + ("décennale" if kind == "DECENNALE" else "responsabilité civile")
    pages = [
        [
            "Assurances Générales du Rhône",
            title,
            f"Assureur : Assurances Générales du Rhône, SA au capital de 12 000 000 €, RCS Lyon {_grouped(insurer)}",
            f"Assuré : {name} ({form}), SIREN {siren}, {address}",
            f"Période de validité : du {start:%d/%m/%Y} au {end:%d/%m/%Y}",
            "Activités couvertes : menuiserie, charpente, agencement intérieur.",
        ]
    ]
    return pages, (kind, siren, [insurer], None, end, None)


def insurance_broker(rng, company, dates, kind="DECENNALE"):
    name, form, address = company
    siren, broker = random_siren(rng), random_siren(rng)
    _start, end = PERIODS[rng.randrange(len(PERIODS))]
    issued = date(2026, rng.randint(1, 11), rng.randint(1, 28))
    title = (
        "Attestation d'assurance de responsabilité civile décennale"
        if kind == "DECENNALE"
        else "Attestation d'assurance responsabilité civile professionnelle"
    )
    pages = [
        [
            "Société d'Assurance Mutuelle du Bâtiment",
            title,
            f"Nous soussignés, Société d'Assurance Mutuelle du Bâtiment, attestons que {name} ({form}),",
            f"SIREN {_grouped(siren)}, {address}, est titulaire d'un contrat garantissant sa responsabilité.",
            f"Cette attestation est valable jusqu'au {_long(end)}.",
            f"Votre courtier : Cabinet Dumas Courtage, ORIAS 07 001 234, SIREN {broker}",
            f"Fait à Lyon, le {_long(issued)}",
        ]
    ]
    return pages, (kind, siren, [broker], None, end, None)


# Written after the reader, never used to tune it.
def urssaf_held_out(rng, company, dates):
    name, form, address = company
    siren, certified, six, _three = random_siren(rng), *dates
    issuer = random_siren(rng)
    code = _code(rng, 15)
    pages = [
        [
            "URSSAF",
            "Attestation de vigilance",
            f"Organisme : Urssaf Provence-Alpes-Côte d'Azur (SIREN {issuer})",
            f"Entreprise : {name}",
            f"SIRET : {_siret(siren, rng)}",
            f"Situation au {certified:%d/%m/%Y} : l'entreprise est à jour de ses déclarations et paiements.",
            f"Éditée le {date.fromordinal(certified.toordinal() + 1):%d/%m/%Y}",
            f"Code de contrôle : {code}",
        ]
    ]
    return pages, ("URSSAF_VIGILANCE", siren, [issuer], certified, six, code)


def kbis_held_out(rng, company, dates):
    name, form, address = company
    siren, certified, _six, three = random_siren(rng), *dates
    associate = random_siren(rng)
    code = _kbis_code(rng)
    pages = [
        [
            "Greffe du tribunal de commerce de Marseille",
            "EXTRAIT KBIS",
            f"{name} — {form}",
            f"RCS Marseille {_grouped(siren)}",
            f"Associé unique : Groupe Provence Invest, SIREN {_grouped(associate)}",
            f"Mis à jour le {certified:%d/%m/%Y}",
            f"Code de vérification : {code}",
        ]
    ]
    return pages, ("KBIS", siren, [associate], certified, three, code)


def insurance_held_out(rng, company, dates, kind="RC_PRO"):
    name, form, address = company
    siren, insurer = random_siren(rng), random_siren(rng)
    start, end = PERIODS[rng.randrange(len(PERIODS))]
    pages = [
        [
            "MAF Assurances",
            "Attestation d'assurance responsabilité civile professionnelle",
            f"Souscripteur : {name}, SIRET {_siret(siren, rng)}",
            f"Date d'effet : {start:%d/%m/%Y}",
            f"Date d'échéance : {end:%d/%m/%Y}",
            f"MAF Assurances — RCS Paris {insurer}",
        ]
    ]
    return pages, (kind, siren, [insurer], None, end, None)


DEVELOPMENT = (
    ("urssaf_plain", urssaf_plain),
    ("urssaf_issued_later", urssaf_issued_later),
    ("urssaf_two_pages", urssaf_two_pages),
    ("msa_caisse", msa_caisse),
    ("kbis_officers", kbis_officers),
    ("kbis_plain_words", kbis_plain_words),
    ("rc_insurer_number", lambda rng, c, d: insurance_insurer_number(rng, c, d, "RC_PRO")),
    ("decennale_insurer_number", lambda rng, c, d: insurance_insurer_number(rng, c, d, "DECENNALE")),
    ("rc_broker", lambda rng, c, d: insurance_broker(rng, c, d, "RC_PRO")),
    ("decennale_broker", lambda rng, c, d: insurance_broker(rng, c, d, "DECENNALE")),
)
HELD_OUT = (
    ("urssaf_held_out", urssaf_held_out),
    ("kbis_held_out", kbis_held_out),
    ("rc_held_out", insurance_held_out),
)


def generate(directory: Path, per_template: int = 12, seed: int = 2026) -> list[Expected]:
    """Write the corpus and its ``manifest.json`` into ``directory``; returns what it expects."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Expected] = []
    for group, templates in (("development", DEVELOPMENT), ("held_out", HELD_OUT)):
        for template, make in templates:
            for index in range(per_template):
                company = COMPANIES[(index + len(written)) % len(COMPANIES)]
                dates = HAND_DATES[index % len(HAND_DATES)]
                pages, facts = make(rng, company, dates)
                kind, siren, others, certified, valid_until, code = facts[:6]
                headcount = facts[6] if len(facts) > 6 else None
                chosen = kind
                warn = False
                if template == "kbis_officers" and index % 4 == 3:
                    chosen, warn = "URSSAF_VIGILANCE", True  # a Kbis uploaded as an URSSAF attestation
                filename = f"{template}-{index + 1:02d}.pdf"
                (directory / filename).write_bytes(_write(pages, kind))
                written.append(
                    Expected(
                        filename,
                        group,
                        template,
                        chosen,
                        kind,
                        siren,
                        others,
                        certified.isoformat() if certified else None,
                        valid_until.isoformat() if valid_until else None,
                        code,
                        warn,
                        headcount,
                        company[0],
                    )
                )
    manifest = {e.filename: asdict(e) for e in written}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return written


def scans(directory: Path, written: list[Expected], *, every: int = 12, seed: int = 7) -> list[Expected]:
    """Scans of some of the corpus: each page drawn at 150 to 300 dpi, grey, noisy, slightly turned,
    saved as an image-only PDF. What they hold is what their original holds."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    made = []
    for expected in written[::every]:
        document = pdfium.PdfDocument((directory / expected.filename).read_bytes())
        pages = []
        try:
            for page in document:
                dpi = rng.choice((150, 200, 300))
                image = page.render(scale=dpi / 72).to_pil().convert("L")
                image = image.rotate(rng.uniform(-1.5, 1.5), expand=True, fillcolor=255)
                noise = Image.effect_noise(image.size, rng.uniform(8, 20))
                image = Image.blend(image, noise, 0.12).filter(ImageFilter.GaussianBlur(0.4))
                pages.append(image.convert("RGB"))
        finally:
            document.close()
        filename = f"scan-{expected.filename}"
        pages[0].save(directory / filename, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
        made.append(Expected(**{**asdict(expected), "filename": filename, "group": "scan"}))
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest.update({e.filename: asdict(e) for e in made})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return made
