"""vCard (RFC 6350 / RFC 2426) export of a person and import of .vcf files.

Written here rather than with ``vobject``: we need one card type with a dozen
properties, vobject's vCard 4.0 support is partial, and it would add two more
dependencies. What matters is done to the RFCs: text escaping (\\ , ; and newlines),
folding at 75 octets without splitting a UTF-8 character, CRLF line ends, unfolding and
quoted parameter values when reading."""

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kontor.customers import duplicates, queries, services
from kontor.customers.models import Gender, Organization, Person, Salutation

MAX_FILE_SIZE = 2 * 1024 * 1024
MAX_CARDS = 1000
LINE_OCTETS = 75

_GENDER_OUT = {Gender.FEMALE: "F", Gender.MALE: "M", Gender.DIVERSE: "O"}
_GENDER_IN = {"F": Gender.FEMALE, "M": Gender.MALE, "O": Gender.DIVERSE}
_SALUTATION_OUT = {Salutation.MR: "Herr", Salutation.MS: "Frau"}
_SALUTATION_IN = {
    "herr": Salutation.MR,
    "hr.": Salutation.MR,
    "mr": Salutation.MR,
    "mr.": Salutation.MR,
    "frau": Salutation.MS,
    "fr.": Salutation.MS,
    "ms": Salutation.MS,
    "ms.": Salutation.MS,
    "mrs": Salutation.MS,
    "mrs.": Salutation.MS,
}
_COUNTRIES = {
    "deutschland": "DE",
    "germany": "DE",
    "österreich": "AT",
    "austria": "AT",
    "schweiz": "CH",
    "switzerland": "CH",
}


class VCardError(Exception):
    """The file is not a readable vCard file, or a card in it is invalid; nothing
    was imported. ``messages`` says what and where, in the user's language."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


# --- Writing ---------------------------------------------------------------------------


def escape(text: str) -> str:
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets, each continuation
    starting with a space, never inside a UTF-8 character."""
    parts, current, size = [], [], 0
    limit = LINE_OCTETS
    for char in line:
        n = len(char.encode())
        if size + n > limit:
            parts.append("".join(current))
            current, size = [], 0
            limit = LINE_OCTETS - 1  # the leading space counts
        current.append(char)
        size += n
    parts.append("".join(current))
    return "\r\n ".join(parts)


def person_to_vcard(person: Person, *, version: str = "4.0") -> str:
    """One person as a vCard 4.0 (or 3.0) text with CRLF line ends."""
    v4 = version == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{version}"]
    prefix = " ".join(p for p in (_SALUTATION_OUT.get(person.salutation, ""), person.title) if p)
    lines.append(f"FN:{escape(person.full_name)}")
    lines.append(
        "N:" + ";".join(escape(p) for p in (person.last_name, person.first_name, "", prefix, ""))
    )
    # Only an organization the viewer may see (customers.queries.person_get).
    if (organization := queries.linked_organization(person)) is not None:
        lines.append(f"ORG:{escape(organization.name)}")
    if person.job_title:
        lines.append(f"TITLE:{escape(person.job_title)}")
    for n, email in enumerate(e for e in (person.email, person.email2) if e):
        pref = (";PREF=1" if v4 else ",PREF") if n == 0 else ""
        kind = "work" if v4 else "INTERNET,WORK"
        lines.append(f"EMAIL;TYPE={kind}{pref}:{escape(email)}")
    for number, kind in ((person.phone, "voice"), (person.mobile, "cell")):
        if not number:
            continue
        if v4:
            lines.append(f"TEL;VALUE=uri;TYPE={kind}:tel:{number}")
        else:
            lines.append(f"TEL;TYPE={kind.upper()}:{number}")
    if person.street or person.postal_code or person.city:
        adr = ("", "", person.street, person.city, "", person.postal_code, person.country)
        lines.append("ADR;TYPE=" + ("work" if v4 else "WORK") + ":" + ";".join(map(escape, adr)))
    if person.birth_date:
        lines.append(
            "BDAY:"
            + (person.birth_date.strftime("%Y%m%d") if v4 else person.birth_date.isoformat())
        )
    if v4 and person.gender in _GENDER_OUT:
        lines.append(f"GENDER:{_GENDER_OUT[person.gender]}")
    if v4 and person.language:
        lines.append(f"LANG:{escape(person.language)}")
    lines.append(f"UID:urn:uuid:{person.uuid}")
    lines.append("REV:" + person.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


def http_response(person: Person, version_param: str | None) -> HttpResponse:
    """The person's vCard as a download: 4.0, or 3.0 for ``version`` 3."""
    version = "3.0" if version_param in ("3", "3.0") else "4.0"
    response = HttpResponse(
        person_to_vcard(person, version=version), content_type="text/vcard; charset=utf-8"
    )
    filename = slugify(person.full_name) or "person"
    response["Content-Disposition"] = f'attachment; filename="{filename}.vcf"'
    return response


# --- Reading ---------------------------------------------------------------------------


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    value: str


@dataclass
class Card:
    number: int  # 1-based position in the file, for messages
    properties: list[Property] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # as read (unfolded), for ``text``

    @property
    def text(self) -> str:
        """The card on its own, as in the file: to import it again later."""
        return "".join(f"{line}\r\n" for line in ("BEGIN:VCARD", *self.lines, "END:VCARD"))

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]

    def first(self, name: str) -> Property | None:
        found = self.all(name)
        return found[0] if found else None


_UNESCAPE = re.compile(r"\\(.)", re.S)


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split a compound value (N, ADR) at separators that are not escaped."""
    parts, current, i = [], [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return [unescape(p) for p in parts]


def _split_line(line: str) -> tuple[str, dict[str, list[str]], str]:
    """name;param=value;…:value — colons and semicolons in quoted parameter
    values do not count."""
    quoted, head_end = False, None
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head_end = i
            break
    if head_end is None:
        raise ValueError(line)
    head, value = line[:head_end], line[head_end + 1 :]
    pieces, current, quoted = [], [], False
    for char in head:
        if char == '"':
            quoted = not quoted
            continue
        if char == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    name = pieces[0].rsplit(".", 1)[-1].upper()  # drop a group prefix: item1.TEL
    if not name:
        raise ValueError(line)
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, _sep, values = piece.partition("=")
        if not _sep:  # vCard 2.1 style: TEL;CELL:…
            key, values = "TYPE", key
        params.setdefault(key.upper(), []).extend(v.lower() for v in values.split(",") if v)
    return name, params, value


def parse(content: bytes) -> list[Card]:
    """The cards of a .vcf file. Raises VCardError for anything that is not a
    well-formed sequence of BEGIN:VCARD … END:VCARD blocks."""
    if len(content) > MAX_FILE_SIZE:
        raise VCardError([_("The file is larger than 2 MB.")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VCardError([_("The file is not UTF-8 encoded text.")]) from exc
    text = re.sub(r"\r\n|\r", "\n", text)
    text = re.sub(r"\n[ \t]", "", text)  # unfold
    cards: list[Card] = []
    card: Card | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if "\x00" in line:
            # A vCard is text; PostgreSQL cannot store a NUL in it.
            raise VCardError(
                [_("Line %(line)s contains a null character (NUL).") % {"line": number}]
            )
        try:
            name, params, value = _split_line(line)
        except ValueError:
            raise VCardError([_("Line %(line)s is not a vCard line.") % {"line": number}]) from None
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if card is not None:
                raise VCardError(
                    [_("Line %(line)s: a card begins inside another.") % {"line": number}]
                )
            card = Card(number=len(cards) + 1)
        elif name == "END" and value.strip().upper() == "VCARD":
            if card is None:
                raise VCardError([_("Line %(line)s: END without BEGIN.") % {"line": number}])
            cards.append(card)
            card = None
        elif card is None:
            raise VCardError(
                [
                    _("Line %(line)s is outside of a card (BEGIN:VCARD … END:VCARD).")
                    % {"line": number}
                ]
            )
        else:
            card.properties.append(Property(name=name, params=params, value=value))
            card.lines.append(line)
    if card is not None:
        raise VCardError([_("The last card has no END:VCARD.")])
    if not cards:
        raise VCardError([_("The file contains no vCard.")])
    if len(cards) > MAX_CARDS:
        raise VCardError([_("At most %(count)s cards per file.") % {"count": MAX_CARDS}])
    return cards


def _birth_date(value: str) -> date | None:
    """19800131 or 1980-01-31; a date without year (--0131) or time is not kept."""
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", value.strip())
    if match is None:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def card_to_data(card: Card) -> dict:
    """The person fields a card carries (what Kontor stores; the rest is ignored)."""
    data: dict = {}
    n = card.first("N")
    if n is not None:
        last, first, _additional, prefix, _suffix = (split_unescaped(n.value, ";") + [""] * 5)[:5]
        data["last_name"], data["first_name"] = last.strip(), first.strip()
        titles = []
        for word in prefix.split():
            salutation = _SALUTATION_IN.get(word.lower())
            if salutation is not None:
                data["salutation"] = salutation
            else:
                titles.append(word)
        if titles:
            data["title"] = " ".join(titles)
    if not data.get("last_name"):
        fn = card.first("FN")
        words = unescape(fn.value).split() if fn else []
        if words:
            data["last_name"] = words[-1]
            data["first_name"] = " ".join(words[:-1])
    # The preferred address first (TYPE=pref in 3.0, PREF=1 in 4.0).
    email_properties = sorted(
        card.all("EMAIL"),
        key=lambda p: 0 if "pref" in p.params.get("TYPE", []) or "PREF" in p.params else 1,
    )
    emails = [unescape(p.value).strip() for p in email_properties if p.value.strip()]
    if emails:
        data["email"] = emails[0]
    if len(emails) > 1:
        data["email2"] = emails[1]
    for tel in card.all("TEL"):
        number = unescape(tel.value).strip()
        number = number.removeprefix("tel:")
        target = "mobile" if "cell" in tel.params.get("TYPE", []) else "phone"
        if number and target not in data:
            data[target] = number
    adr = card.first("ADR")
    if adr is not None:
        parts = (split_unescaped(adr.value, ";") + [""] * 7)[:7]
        _box, _extended, street, city, _region, postal_code, country = (p.strip() for p in parts)
        data.update(street=street, city=city, postal_code=postal_code)
        code = _COUNTRIES.get(country.lower(), country.upper() if len(country) == 2 else "")
        if code:
            data["country"] = code
    title = card.first("TITLE")
    if title is not None:
        data["job_title"] = unescape(title.value).strip()
    bday = card.first("BDAY")
    if bday is not None and _birth_date(bday.value):
        data["birth_date"] = _birth_date(bday.value)
    gender = card.first("GENDER")
    if gender is not None:
        code = gender.value.split(";")[0].strip().upper()
        if code in _GENDER_IN:
            data["gender"] = _GENDER_IN[code]
    lang = card.first("LANG")
    if lang is not None and lang.value.strip():
        data["language"] = lang.value.strip().lower()[:8]
    org = card.first("ORG")
    if org is not None:
        data["_organization_name"] = split_unescaped(org.value, ";")[0].strip()
    return data


@dataclass
class PossibleDuplicate:
    """A card not imported because it looks like persons the actor can see."""

    number: int
    name: str
    candidates: list[duplicates.Candidate]
    card: str  # the card's text, to import it anyway
    reason: str  # as in ImportResult.skipped

    @property
    def card_b64(self) -> str:
        return base64.b64encode(self.card.encode()).decode()


@dataclass
class ImportResult:
    created: list[Person]
    skipped: list[str]  # one reason per skipped card, in the user's language
    # The cards of ``skipped`` that look like existing persons, with those persons.
    duplicates: list[PossibleDuplicate] = field(default_factory=list)

    @property
    def skipped_otherwise(self) -> list[str]:
        """The reasons of the cards skipped for anything but a likely duplicate."""
        reasons = {d.reason for d in self.duplicates}
        return [r for r in self.skipped if r not in reasons]


def _field_messages(exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    messages = []
    for name, errors in exc.message_dict.items():
        try:
            label = str(Person._meta.get_field(name).verbose_name)
        except Exception:  # a custom field or __all__: the key is all we have
            label = name
        messages.extend(f"{label}: {m}" for m in errors)
    return messages


DUPLICATES_SHOWN = 3


def person_import_vcards(
    *, actor, content: bytes, via: str = "ui", allow_duplicates: bool = False
) -> ImportResult:
    """Create a person from each card of a .vcf file, through person_create. A card
    without a name is skipped; so is one that looks like persons the actor can see
    (``duplicates.candidates_for_data``: same e-mail or phone, a similar name in the
    same city or at the same organization — cards earlier in the file included),
    unless ``allow_duplicates``. Skipped cards are reported. An unreadable file or an
    invalid card (say, a wrong phone number) raises VCardError and imports nothing:
    all or nothing per file."""
    cards = parse(content)
    result = ImportResult(created=[], skipped=[])
    errors: list[str] = []
    organizations = Organization.objects.visible_to(actor)

    with transaction.atomic():
        for card in cards:
            data = card_to_data(card)
            organization_name = data.pop("_organization_name", "")
            label = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
            if not data.get("last_name"):
                result.skipped.append(_("Card %(number)s: no name.") % {"number": card.number})
                continue
            if organization_name:
                matches = list(organizations.filter(name__iexact=organization_name)[:2])
                if len(matches) == 1:
                    data["organization"] = matches[0]
            if not allow_duplicates:
                found = duplicates.candidates_for_data(
                    user=actor, model=Person, data=data, limit=DUPLICATES_SHOWN
                )
                if found:
                    others = ", ".join(f"{c.record} ({c.record.get_absolute_url()})" for c in found)
                    reason = _("Card %(number)s (%(name)s): possible duplicate of %(others)s.") % {
                        "number": card.number,
                        "name": label,
                        "others": others,
                    }
                    result.skipped.append(reason)
                    result.duplicates.append(
                        PossibleDuplicate(card.number, label, found, card.text, reason)
                    )
                    continue
            try:
                result.created.append(services.person_create(actor=actor, data=data, via=via))
            except ValidationError as exc:
                errors.extend(
                    _("Card %(number)s (%(name)s): %(message)s")
                    % {"number": card.number, "name": label, "message": message}
                    for message in _field_messages(exc)
                )
        if errors:
            # Raising inside the block rolls back the persons created so far.
            raise VCardError(errors)
    return result


def cards_from_b64(values: list[str]) -> bytes:
    """The cards a user chose to import anyway (``PossibleDuplicate.card_b64``) as
    one file's content; VCardError if they are not ours or too many."""
    if len(values) > MAX_CARDS:
        raise VCardError([_("At most %(count)s cards per file.") % {"count": MAX_CARDS}])
    try:
        content = b"".join(base64.b64decode(v.encode(), validate=True) for v in values)
    except (ValueError, UnicodeError) as exc:
        raise VCardError([_("The chosen cards could not be read. Upload the file again.")]) from exc
    if len(content) > MAX_FILE_SIZE:
        raise VCardError([_("The file is larger than 2 MB.")])
    return content
