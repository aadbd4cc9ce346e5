"""Sample attestations for the demo world (``one``). The corpus that measures the document reader
is ``portal.demo.corpus``, which reuses the names and helpers below."""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta

from stdnum import luhn

from portal.core.pdf import new_pdf, paragraph, to_bytes

MONTH_NAMES = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
               "octobre", "novembre", "décembre")  # fmt: skip
COMPANIES = (
    ("Menuiserie Martin", "SARL", "14 rue des Charpentiers, 69007 Lyon"),
    ("Électricité Générale Bérard", "SAS", "3 allée des Œillets, 13008 Marseille"),
    ("Plâtrerie Lefèvre & Fils", "SARL", "27 chemin de la Forêt, 38000 Grenoble"),
    ("Couverture Noël", "EURL", "5 place de l'Église, 35000 Rennes"),
    ("Maçonnerie Çelik", "SAS", "81 avenue Jean-Jaurès, 31000 Toulouse"),
    ("Peinture Hélène Dupré", "EI", "12 impasse des Lilas, 44000 Nantes"),
)


def fr_long(day: date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def spaced(siren: str) -> str:
    return f"{siren[:3]} {siren[3:6]} {siren[6:]}"


def random_siren(rng: random.Random) -> str:
    base = f"{rng.randint(10_000_000, 99_999_999)}"
    return base + luhn.calc_check_digit(base)


def _header(pdf, issuer: str, subtitle: str) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 9, issuer, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _paragraphs(pdf, *texts: str) -> None:
    pdf.set_font("DejaVu", "", 11)
    for text in texts:
        paragraph(pdf, text, after=3)


def urssaf(pdf, rng, name, form, address, siren, certified, code, layout) -> None:
    if layout == 0:
        _header(pdf, "Urssaf", "Attestation de vigilance — article L.243-15 du Code de la sécurité sociale")
        _paragraphs(
            pdf,
            f"L'Urssaf atteste que l'entreprise {name} ({form}), {address},",
            f"SIREN : {spaced(siren)}",
            f"est à jour de ses obligations de déclaration et de paiement à la date du {certified:%d/%m/%Y}.",
            f"Identifiant de sécurité : {code}",
            "Vérifiez l'authenticité de cette attestation avec son identifiant de sécurité sur le site de l'Urssaf.",
        )
    elif layout == 1:
        _header(pdf, "URSSAF Rhône-Alpes", "ATTESTATION DE VIGILANCE")
        _paragraphs(
            pdf,
            f"Raison sociale : {name}\nForme juridique : {form}\nAdresse : {address}\nSiren : {siren}",
            f"Nous certifions que le cotisant ci-dessus est à jour de ses obligations au {fr_long(certified)}.",
            f"Code de sécurité : {code}",
        )
    else:
        _header(pdf, "Urssaf Île-de-France", "Attestation de fourniture des déclarations sociales")
        _paragraphs(
            pdf,
            f"Établissement principal : {name} — n° SIRET {siren} 00017",
            f"Situation arrêtée au {certified:%d.%m.%Y} : déclarations et paiements à jour.",
            f"Identifiant de sécurité : {code}",
            "Document généré électroniquement — aucune signature n'est nécessaire.",
        )


def kbis(pdf, rng, name, form, address, siren, certified, code, layout) -> None:
    _header(pdf, "Greffe du tribunal de commerce de Lyon", "Extrait Kbis")
    lines = [
        f"Immatriculation au RCS, numéro {spaced(siren)} R.C.S. Lyon",
        f"Dénomination : {name}\nForme juridique : {form}\nAdresse du siège : {address}",
        "Activités principales : travaux de menuiserie bois et PVC, pose de fenêtres et de portes.",
    ]
    if layout == 0:
        lines.append(f"Extrait délivré le {certified:%d/%m/%Y} — à jour au {certified:%d/%m/%Y}.")
    else:
        lines.append(f"Date de délivrance : {fr_long(certified)}")
    lines.append(f"Code de vérification : {code}")
    _paragraphs(pdf, *lines)


def insurance(pdf, rng, name, form, address, siren, certified, end, layout, kind) -> None:
    insurer = rng.choice(("Mutuelle des Bâtisseurs", "Assurances Générales du Rhône", "Société d'Assurance Mutuelle"))
    title = (
        "Attestation d'assurance décennale" if kind == "DECENNALE" else "Attestation d'assurance responsabilité civile"
    )
    _header(pdf, insurer, title)
    body = [
        f"Nous soussignés, {insurer}, attestons que {name} ({form}), SIREN {siren}, {address},",
        "est titulaire d'un contrat garantissant sa responsabilité civile professionnelle.",
    ]
    if layout == 0:
        body.append(f"Le contrat est en vigueur du {certified:%d/%m/%Y} au {end:%d/%m/%Y} inclus.")
    elif layout == 1:
        body.append(f"Période de validité : {certified:%d/%m/%Y} - {end:%d/%m/%Y}")
    else:
        body.append(f"Cette attestation est valable jusqu'au {fr_long(end)}.")
        body.append(f"Fait à Lyon, le {fr_long(certified)}")
    body.append("Activités couvertes : menuiserie, charpente, agencement intérieur.")
    _paragraphs(pdf, *body)


@functools.lru_cache(maxsize=64)
def one(type_code: str, siren: str, name: str, certified: date, *, layout: int = 0, code: str | None = None) -> bytes:
    """A single attestation for the demo world."""
    rng = random.Random(f"{type_code}{siren}{certified}")
    pdf = new_pdf(title=type_code)
    form, address = "SARL", "14 rue des Charpentiers, 69007 Lyon"
    code = code or "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(15))
    if type_code == "URSSAF_VIGILANCE":
        urssaf(pdf, rng, name, form, address, siren, certified, code, layout)
    elif type_code == "KBIS":
        kbis(pdf, rng, name, form, address, siren, certified, code[:10], layout)
    elif type_code in ("RC_PRO", "DECENNALE", "QUALIBAT", "MUTUELLE", "CIBTP"):
        insurance(pdf, rng, name, form, address, siren, certified, certified + timedelta(days=364), layout, type_code)
    else:
        _header(pdf, name, "Liste nominative des travailleurs étrangers" if type_code == "LNTE" else type_code)
        _paragraphs(pdf, f"Entreprise : {name} — SIREN {spaced(siren)}", f"Document établi le {fr_long(certified)}.")
    return to_bytes(pdf)
