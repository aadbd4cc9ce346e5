"""Reading a compliance document as an expert would: what it is, whom it certifies, which date it
certifies, what validity follows, which verification code it carries — or saying it is unsure.

Pure functions over the extracted text (no database, no I/O): ``read(text, ...)`` returns a
``Reading`` whose every fact comes with its evidence (the words it was read from) and a
confidence. When two readings conflict or none is clear, the fact is None with a warning saying
why: a wrong fact said confidently is worse than an unknown one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date

from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from portal.core import clock

# --- Normalising ---------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007\u2009]+")


def normalise(text: str) -> str:
    """NFKC (ligatures "ﬁ" → "fi"), plain apostrophes and spaces, words hyphenated at a line end
    joined, blank runs collapsed; line breaks are kept as single spaces between lines ("\\n")."""
    text = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES)
    text = re.sub(r"(?<=[a-zà-ÿ])-\s*\n\s*(?=[a-zà-ÿ])", "", text)  # "attes-\ntation" → "attestation"
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _fold_char(char: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", char.lower()) if not unicodedata.combining(c))
    return plain if len(plain) == 1 else char.lower()[:1] or char


def fold(text: str) -> str:
    """Lower case without accents, for comparing names and finding labels; one character for one,
    so a position in the folded text is the same position in the text (evidence is quoted as printed)."""
    return "".join(_fold_char(c) for c in text)


# --- Validity ------------------------------------------------------------------------------------


def validity_end(rule: str, months: int | None, certified_on: date | None, printed_end: date | None = None):
    """The end of a document's validity from its type's rule.

    N months from D ends on the day of the N-th month after D bearing the same number, clamped to
    that month's end (art. 641 du code de procédure civile): 15/10/2026 + 6 → 15/04/2027,
    31/08/2026 + 6 → 28/02/2027."""
    if rule == "months_from_issue" and months and certified_on:
        return clock.add_months(certified_on, months)
    if rule == "end_of_year" and certified_on:
        return date(certified_on.year, 12, 31)
    return printed_end


# --- Type ----------------------------------------------------------------------------------------

# (type, words of its title or issuer, folded): the first whose words all appear, by strength.
TYPE_SIGNS = (
    ("KBIS", ("extrait kbis",)),
    ("KBIS", ("extrait d'immatriculation", "registre du commerce")),
    ("RNE_CERT", ("registre national des entreprises",)),
    ("URSSAF_VIGILANCE", ("attestation de vigilance",)),
    ("URSSAF_VIGILANCE", ("urssaf", "a jour de ses obligations")),
    ("URSSAF_VIGILANCE", ("mutualite sociale agricole", "a jour")),
    ("URSSAF_VIGILANCE", ("attestation de fourniture des declarations sociales",)),
    ("DECENNALE", ("decennale",)),
    ("DECENNALE", ("article l.241-1",)),
    ("RC_PRO", ("responsabilite civile",)),
    ("FISCAL", ("regularite fiscale",)),
    ("LNTE", ("travailleurs etrangers",)),
    ("QUALIBAT", ("qualibat",)),
    ("CIBTP", ("conges payes",)),
)
TYPE_NAMES = {
    "KBIS": "un extrait Kbis",
    "RNE_CERT": "une attestation d'immatriculation au RNE",
    "URSSAF_VIGILANCE": "une attestation de vigilance",
    "DECENNALE": "une attestation d'assurance décennale",
    "RC_PRO": "une attestation d'assurance responsabilité civile",
    "FISCAL": "une attestation de régularité fiscale",
    "LNTE": "une liste de travailleurs étrangers",
    "QUALIBAT": "un certificat Qualibat",
    "CIBTP": "une attestation de caisse de congés payés",
}


def detect_type(folded: str) -> str | None:
    """The catalogue code the document's own words say it is (an MSA attestation is URSSAF_VIGILANCE).
    The first page's head counts most: a Kbis mentioned in an attestation's body is not a Kbis."""
    head = folded[:600]
    for scope in (head, folded):
        for code, words in TYPE_SIGNS:
            if all(word in scope for word in words):
                return code
    return None


def issuer_of(folded: str, type_code: str | None) -> str | None:
    """Who issued an attestation of vigilance or a Kbis, as far as its words say: where its code is
    checked. An MSA attestation is checked at the MSA, not at the Urssaf."""
    if type_code == "URSSAF_VIGILANCE":
        msa = "mutualite sociale agricole" in folded or re.search(r"\bmsa\b", folded)
        urssaf = "urssaf" in folded
        return "msa" if msa and not urssaf else "urssaf" if urssaf and not msa else None
    if type_code == "KBIS" and "greffe" in folded:
        return "greffe"
    return None


# --- Company numbers ------------------------------------------------------------------------------

# A SIREN (9 digits) or SIRET (14), grouped by spaces or dots or not, a whole token: no digit glued
# on either side, so 9 digits inside a longer number are never a SIREN.
# A line may wrap inside a grouped number ("812 345\n676"): a line break counts as a space there.
_NUMBER = re.compile(r"(?<![\d.])(\d{3}[ .\n]?\d{3}[ .\n]?\d{3}(?:[ .\n]?\d{5})?)(?![\d])(?!\.\d)")

# The role a number plays, from the words just before it (folded). Checked in this order.
ROLES = (
    ("issuer", ("urssaf", "caisse", "organisme", "mutualite sociale", "greffe", "tribunal", "assureur", "compagnie",
                "assurances", "mutuelle", "societe d'assurance", "siege social de l'assureur", "nous soussignes",
                "dgfip", "service des impots", "qualibat")),
    ("broker", ("courtier", "intermediaire", "agent general", "orias", "cabinet de courtage")),
    ("auditor", ("commissaire aux comptes", "commissaires aux comptes", "expert-comptable", "expert comptable")),
    ("officer", ("president", "gerant", "directeur general", "dirigeant", "represente par", "representee par",
                 "associe", "holding", "societe mere", "maison mere", "actionnaire", "administrateur")),
    ("subject", ("l'entreprise", "assure", "cotisant", "souscripteur", "denomination",
                 "raison sociale", "immatriculation", "etablissement", "atteste que", "certifie que",
                 "attestons que", "certifions que", "nom ou raison sociale", "titulaire", "entreprise :")),
)  # fmt: skip
# "SIREN", "SIRET", "RCS", "n°" say a number is a company number, never whose: they give no role.
ROLE_NAMES = {
    "issuer": "de l'organisme qui délivre le document",
    "broker": "d'un courtier ou intermédiaire",
    "auditor": "d'un commissaire aux comptes ou expert-comptable",
    "officer": "d'un dirigeant, associé ou société mère",
}


@dataclass(frozen=True)
class CompanyNumber:
    siren: str
    siret: str | None
    role: str | None  # issuer, broker, auditor, officer, subject, or None (no telling word)
    context: str  # the words it was read with


def _role(before: str) -> str | None:
    """The role the nearest telling words before a number give it (the closest word wins)."""
    best, position = None, -1
    for role, words in ROLES:
        for word in words:
            at = before.rfind(word)
            if at > position:
                best, position = role, at
    return best


def company_numbers(text: str) -> list[CompanyNumber]:
    """Every valid SIREN or SIRET printed, with the role its context gives it."""
    found = []
    for match in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", match[1])
        if len(digits) == 14:
            if not siret_number.is_valid(digits):
                continue
            siren, siret = digits[:9], digits
        elif siren_number.is_valid(digits):
            siren, siret = digits, None
        else:
            continue
        # The words of its own line say whose it is ("Assureur : … RCS 123 456 789"); else those of the
        # line above ("Président :" / "Holding Nord, SIREN …"); never further: a header is not a label.
        line_start = text.rfind("\n", 0, match.start()) + 1
        previous_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
        role = _role(fold(text[line_start : match.start()]))
        if role is None and line_start:
            role = _role(fold(text[previous_start : line_start - 1]))
        start = max(match.start() - 90, 0)
        context = text[start : min(match.end() + 30, len(text))].replace("\n", " ")
        found.append(CompanyNumber(siren, siret, role, context))
    return found


_LEGAL_FORMS = re.compile(
    r"\b(sarl|sas|sasu|eurl|sa|sci|snc|selarl|selas|ei|eirl|scop|gie|sca|scs|micro-entreprise|"
    r"entreprise individuelle)\b"
)


def name_key(name: str) -> str:
    """A company name compared without case, accents, punctuation or legal form."""
    folded = _LEGAL_FORMS.sub(" ", fold(name).replace("&", " et "))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


# --- Dates ---------------------------------------------------------------------------------------

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip
_WEEKDAY = r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
_DATE = re.compile(
    rf"{_WEEKDAY}(?P<d>\d{{1,2}})(?:er)?(?:[/.\-](?P<m>\d{{1,2}})[/.\-]|[ ]+(?P<month>[a-z]+)[ ]+)(?P<y>\d{{4}})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
)
PLAUSIBLE_YEARS = range(1950, 2101)

# Labels, folded, of the date a document certifies, and of the dates it must never be taken for.
CERTIFIED_LABELS = (
    "a la date du", "a jour au", "a jour de ses obligations au", "situation au", "situation arretee au",
    "situation arretee a la date du", "en date du", "au titre de la periode echue au", "a jour a la date du",
    "etat au", "mis a jour le", "a jour le", "obligations au",
)  # fmt: skip
ISSUE_LABELS = (
    "delivree le", "delivre le", "editee le", "edite le", "etablie le", "etabli le", "fait a", "fait le",
    "date de delivrance", "date d'edition", "telecharge le", "genere le", "imprime le", "signe le", "emise le",
    "date d'emission",
)  # fmt: skip
START_LABELS = ("du", "a compter du", "prenant effet le", "date d'effet", "effet le", "periode de validite")
END_LABELS = (
    "au", "jusqu'au", "valable jusqu'au", "date d'echeance", "expire le", "echeance", "fin de validite", "date de fin",
)  # fmt: skip


@dataclass(frozen=True)
class LabelledDate:
    value: date
    label: str | None  # "certified", "issue", "start", "end" or None
    context: str


def _parse(match: re.Match) -> date | None:
    try:
        if match["iso"]:
            value = date.fromisoformat(match["iso"])
        elif match["month"]:
            month = MONTHS.get(fold(match["month"]))
            if month is None:
                return None
            value = date(int(match["y"]), month, int(match["d"]))
        else:
            value = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None
    return value if value.year in PLAUSIBLE_YEARS else None


def _label(before: str) -> str | None:
    """The meaning of the label written just before a date; the longest label wins ("à jour de ses
    obligations au" over "au")."""
    best, position = None, len(before) + 1
    for label, words in (
        ("certified", CERTIFIED_LABELS),
        ("issue", ISSUE_LABELS),
        ("start", START_LABELS),
        ("end", END_LABELS),
    ):
        for word in words:
            found = re.search(rf"(?:^|[^a-z']){re.escape(word)}\s*:?\s*$", before)
            if found and found.start() < position:
                best, position = label, found.start()
    return best


def labelled_dates(folded: str, text: str | None = None) -> list[LabelledDate]:
    """Every date with the meaning of its label; ``text``: the same text unfolded, to quote."""
    text = text if text is not None and len(text) == len(folded) else folded
    found = []
    for match in _DATE.finditer(folded):
        value = _parse(match)
        if value is None:
            continue
        before = folded[max(match.start() - 60, 0) : match.start()]
        label = _label(before)
        if label is None and re.search(r"fait a [^,\n]{1,40},?\s*le\s*$", before):
            label = "issue"  # "Fait à Lyon, le 12/10/2026": the place sits between the label and the date
        elif label is None and re.search(r"\d{4}\s*[-–]\s*$", before):
            label = "end"  # "01/10/2026 - 30/09/2027": the second date of a period
        quoted = text[max(match.start() - 60, 0) : match.end() + 10]
        found.append(LabelledDate(value, label, " ".join(quoted.split())))
    return found


# --- Codes ---------------------------------------------------------------------------------------

CODE_LABELS = (
    "identifiant de securite", "code de securite", "code securite", "code d'authentification",
    "code de controle", "code de verification", "code verification", "cle de securite",
    "numero de securite", "code d'authenticite",
)  # fmt: skip
_CODE_AFTER = re.compile(r"\s*(?:n°|no|:|-)?\s*:?\s*\n?\s*([A-Za-z0-9]{6,40})\b")


def verification_codes(text: str) -> list[tuple[str, str]]:
    """(code, context) for every value printed under a verification-code label, on the same line or
    the next one."""
    folded = fold(text)
    found = []
    for label in CODE_LABELS:
        for at in (m.end() for m in re.finditer(re.escape(label), folded)):
            match = _CODE_AFTER.match(text, at)
            if match and any(c.isdigit() for c in match[1]) | match[1].isupper():
                code = match[1]  # as printed: a Kbis code is case-sensitive at the greffe ("slsz24kcdR")
                if code.upper() not in (c.upper() for c, _ in found):
                    found.append((code, " ".join(text[max(at - len(label), 0) : match.end()].split())))
    return found


# --- Figures ---------------------------------------------------------------------------------------

_HEADCOUNT = re.compile(
    r"(?:effectif(?: salarie)?(?: declare)?(?: moyen)?|nombre de salaries)\s*(?:\([^)]*\))?\s*:?\s*(\d{1,6})\b"
)
_PAYROLL = re.compile(
    r"(?:masse salariale|remunerations? declarees?|assiette)[^:\n]{0,40}:?\s*([\d ]{1,12}(?:,\d{2})?)\s*(?:€|eur)"
)


def figures(folded: str, text: str | None = None) -> tuple[int | None, int | None, str | None]:
    """(headcount, payroll in euros, evidence) printed on an URSSAF attestation; None when absent
    or when the document prints several different headcounts."""
    counts = {int(m[1]) for m in _HEADCOUNT.finditer(folded)}
    headcount = counts.pop() if len(counts) == 1 else None
    payrolls = {int(m[1].replace(" ", "").split(",")[0]) for m in _PAYROLL.finditer(folded) if m[1].strip()}
    payroll = payrolls.pop() if len(payrolls) == 1 else None
    match = _HEADCOUNT.search(folded)
    quoted = text if text is not None and len(text) == len(folded) else folded
    return headcount, payroll, quoted[match.start() : match.end()] if match and headcount is not None else None


# --- The reading ---------------------------------------------------------------------------------


@dataclass
class Reading:
    kind: str = "text"
    detected_type: str | None = None
    subject_siren: str | None = None
    siren_match: bool | None = None
    name_match: bool | None = None
    certified_on: str | None = None
    valid_until: str | None = None
    verification_code: str | None = None
    headcount: int | None = None  # printed on URSSAF attestations: whether the company can do the work
    payroll: int | None = None
    issuer: str | None = None  # "urssaf", "msa" or "greffe": where its code is checked
    warnings: list[str] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, str] = field(default_factory=dict)  # "high" or "low", per fact found

    def as_dict(self) -> dict:
        return asdict(self)


def _subject(numbers: list[CompanyNumber]) -> tuple[str | None, str | None]:
    """The SIREN of the company the document is about, and the evidence; None when unclear."""
    subjects = {n.siren for n in numbers if n.role == "subject"}
    if len(subjects) == 1:
        siren = subjects.pop()
        return siren, next(n.context for n in numbers if n.siren == siren and n.role == "subject")
    if not subjects:
        untold = {n.siren for n in numbers if n.role is None}
        if len(untold) == 1:
            siren = untold.pop()
            return siren, next(n.context for n in numbers if n.siren == siren)
    return None, None


def _name_in(folded_text: str, name: str) -> bool:
    key = name_key(name)
    return bool(key) and key in " ".join(re.sub(r"[^a-z0-9]+", " ", folded_text.replace("&", " et ")).split())


# Types whose date of issue is the date of the situation they certify (a register's extract).
ISSUED_IS_CERTIFIED = ("KBIS", "RNE_CERT")


def _certified(
    dates: list[LabelledDate], rule: str, type_code: str | None = None
) -> tuple[LabelledDate | None, LabelledDate | None, str | None]:
    """(certified date, printed end date, why unsure) by the meaning of each date's label."""
    certified = [d for d in dates if d.label == "certified"]
    issue = [d for d in dates if d.label == "issue"]
    starts = [d for d in dates if d.label == "start"]
    ends = [d for d in dates if d.label == "end"]
    if rule == "printed_end_date":
        end = max(ends, key=lambda d: d.value) if ends else None
        start = starts[0] if starts else None
        return start, end, None
    values = {d.value for d in certified}
    if len(values) > 1:
        return None, None, "Plusieurs dates certifiées différentes dans le document : aucune n'est retenue."
    if not certified:
        if issue and type_code in ISSUED_IS_CERTIFIED and len({d.value for d in issue}) == 1:
            return issue[0], None, None  # an extract states the register as it is the day it is issued
        if issue:
            return None, None, "Seule la date de délivrance figure : la date de la situation certifiée n'est pas lue."
        return None, None, None
    chosen = certified[0]
    if issue and all(chosen.value > d.value for d in issue):
        return None, None, "La date certifiée serait postérieure à la date de délivrance : elle n'est pas retenue."
    return chosen, None, None


def _match_siren(reading: Reading, numbers: list[CompanyNumber], siren: str) -> None:
    """``siren_match``: True only when the company is the document's subject; False when another
    company is, or when its number is printed only in another role or not at all; None when unclear."""
    mine = [n for n in numbers if n.siren == siren]
    other_roles = [n.role for n in mine if n.role in ROLE_NAMES]
    if reading.subject_siren == siren:
        reading.siren_match = True
    elif reading.subject_siren is not None:
        reading.siren_match = False
        reading.warnings.append(
            f"Le document concerne le SIREN {reading.subject_siren}, pas celui de l'entreprise ({siren})."
        )
    elif not mine:
        reading.siren_match = False
        reading.warnings.append("Le SIREN de l'entreprise n'apparaît pas dans le document.")
    elif len(other_roles) == len(mine):
        reading.siren_match = False
        reading.warnings.append(f"Le SIREN de l'entreprise figure seulement comme celui {ROLE_NAMES[other_roles[0]]}.")
    else:
        reading.siren_match = None  # printed, but the document does not say it is its subject
    if reading.siren_match is True and other_roles:
        reading.warnings.append(f"Le SIREN de l'entreprise figure aussi comme celui {ROLE_NAMES[other_roles[0]]}.")


def read(
    text: str,
    *,
    expected_type: str | None = None,
    siren: str | None = None,
    name: str | None = None,
    rule: str | None = None,
    months: int | None = None,
    has_code: bool = False,
    ocr: bool = False,
    qr_texts: list[str] = (),
) -> Reading:
    """Everything the document's text says, with the evidence; see the module's docstring.
    ``ocr``: the text comes from Tesseract; a code read by OCR is never kept (one letter for a digit
    and it is another code), every other fact is of low confidence."""
    from portal.documents.catalogue import DOCUMENT_TYPES

    text = normalise(text)
    folded = fold(text)
    reading = Reading()
    reading.detected_type = detect_type(folded)
    if reading.detected_type:
        reading.confidence["detected_type"] = "high"
    if expected_type and reading.detected_type and reading.detected_type != expected_type:
        alternatives = {code for code, *_rest, alt in DOCUMENT_TYPES if alt == expected_type}
        if reading.detected_type not in alternatives:
            reading.warnings.append(
                f"Ce document ressemble à {TYPE_NAMES.get(reading.detected_type, reading.detected_type)}, "
                "pas au type choisi."
            )
    if rule is None and (expected_type or reading.detected_type):
        spec = next((t for t in DOCUMENT_TYPES if t[0] == (expected_type or reading.detected_type)), None)
        if spec:
            rule, months, has_code = spec[4], spec[5], spec[6]
    rule = rule or "printed_end_date"

    numbers = company_numbers(text)
    reading.subject_siren, evidence = _subject(numbers)
    if evidence:
        reading.evidence["subject_siren"] = evidence
        reading.confidence["subject_siren"] = "high" if any(n.role == "subject" for n in numbers) else "low"
    elif numbers:
        reading.warnings.append("Impossible de dire quelle entreprise ce document concerne : aucun SIREN n'est retenu.")
    if siren:
        _match_siren(reading, numbers, siren)
    if name:
        reading.name_match = _name_in(folded, name)
        if not reading.name_match:
            reading.warnings.append("La raison sociale de l'entreprise n'apparaît pas dans le document.")

    dates = labelled_dates(folded, text)
    certified, end, unsure = _certified(dates, rule, expected_type or reading.detected_type)
    if certified:
        reading.certified_on = certified.value.isoformat()
        reading.evidence["certified_on"] = certified.context
        reading.confidence["certified_on"] = "high"
    elif unsure:
        reading.warnings.append(unsure)
    elif rule != "printed_end_date":
        reading.warnings.append("Date certifiée introuvable dans le texte.")
    proposed = validity_end(rule, months, certified.value if certified else None, end.value if end else None)
    if proposed:
        reading.valid_until = proposed.isoformat()
        reading.evidence["valid_until"] = end.context if end else f"{months} mois après la date certifiée"
        reading.confidence["valid_until"] = "high"
    elif rule == "printed_end_date":
        reading.warnings.append("Date de fin de validité introuvable dans le texte.")

    if has_code and ocr:
        reading.warnings.append("Code de vérification non lu sur un scan : recopiez-le depuis le document.")
    elif has_code:
        codes = verification_codes(text)
        if len(codes) == 1:
            reading.verification_code, reading.evidence["verification_code"] = codes[0]
            reading.confidence["verification_code"] = "high"
        elif len(codes) > 1:
            reading.warnings.append("Plusieurs codes de vérification différents : aucun n'est retenu.")
        else:
            reading.warnings.append("Code de vérification introuvable dans le texte.")
    if has_code and qr_texts:
        _check_with_qr(reading, qr_texts)
    reading.issuer = issuer_of(folded, expected_type or reading.detected_type)
    if (expected_type or reading.detected_type) == "URSSAF_VIGILANCE":
        reading.headcount, reading.payroll, said = figures(folded, text)
        if said:
            reading.evidence["headcount"] = said
    if ocr:
        reading.kind = "scan"
        reading.confidence = dict.fromkeys(reading.confidence, "low")
        reading.warnings.insert(0, OCR_WARNING)
    return reading


_QR_CODE = re.compile(r"(?:[?&](?:code|verif|verification|cle)=)([A-Za-z0-9]{6,40})", re.IGNORECASE)


def _check_with_qr(reading: Reading, qr_texts: list[str]) -> None:
    """A Kbis's QR code carries its verification code: it confirms the printed one, gives it when the
    text has none, or — when they differ — neither is kept."""
    in_qr = {m[1] for text in qr_texts for m in _QR_CODE.finditer(text)}
    printed = reading.verification_code
    if not in_qr:
        if printed and any(printed.upper() in text.upper() for text in qr_texts):
            reading.evidence["verification_code"] += " — confirmé par le QR code"
        return
    if printed and printed.upper() in {code.upper() for code in in_qr}:
        reading.evidence["verification_code"] += " — confirmé par le QR code"
    elif printed:
        reading.verification_code = None
        reading.confidence.pop("verification_code", None)
        reading.warnings.append("Le code imprimé diffère de celui du QR code : aucun n'est retenu.")
    elif len(in_qr) == 1:
        reading.verification_code = in_qr.pop()
        reading.evidence["verification_code"] = "QR code : " + qr_texts[0][:120]
        reading.confidence["verification_code"] = "high"
        reading.warnings = [w for w in reading.warnings if w != "Code de vérification introuvable dans le texte."]


OCR_WARNING = "Lu par OCR : chaque information lue est à vérifier sur le document."
