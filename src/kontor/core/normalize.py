"""German-aware text normalisation shared by search and duplicate detection, so that
both treat "Müller", "Mueller" and "Muller" — or "Hauptstraße" and "Hauptstr." — alike.
"""

import re
import unicodedata

import phonenumbers

_UMLAUT_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[0-9a-z]+")

# Legal forms, longest first so that "GmbH & Co. KG" wins over "KG".
LEGAL_FORMS = [
    "gmbh & co. kgaa",
    "gmbh & co. kg",
    "gmbh & co kg",
    "ug (haftungsbeschränkt)",
    "ug haftungsbeschränkt",
    "ag & co. kg",
    "gmbh",
    "ggmbh",
    "mbh",
    "ag",
    "kgaa",
    "kg",
    "ohg",
    "gbr",
    "e.k.",
    "e. k.",
    "ek",
    "e.kfm.",
    "e.v.",
    "ev",
    "eg",
    "ug",
    "se",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "llc",
    "partg",
    "partgmbb",
    "co.",
    "co",
]
_LEGAL_FORM = re.compile(
    r"(?:^|\s|,)(" + "|".join(re.escape(f) for f in LEGAL_FORMS) + r")(?=$|\s|,)"
)
_STREET = re.compile(r"(stra(?:ss|ß)e|str\.?)(?=\s|\d|$)")


def fold(text: str) -> str:
    """Lower case, German umlauts spelled out (ü → ue), other accents dropped."""
    # NFC first: a decomposed "u" + "◌̈" is an "ü" too.
    text = unicodedata.normalize("NFC", text or "").lower().translate(_UMLAUT_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def strip_accents(text: str) -> str:
    """Lower case with umlauts reduced to their base letter (ü → u): "Muller"."""
    text = unicodedata.normalize("NFKD", (text or "").lower().replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c))


# --- Text as typed -----------------------------------------------------------------------
# Stored text is NFC: "Müller" typed on a Mac (u + combining diaeresis) and on Windows
# is one name. Names also lose the invisible format characters (Unicode category Cf):
# bidi overrides, embeddings and isolates that make "Müller" display as "rellüM" or
# disguise a file name, zero-width spaces and joiners that make two equal-looking
# names differ, the BOM and the soft hyphen.

# Zero-width non-joiner and joiner: needed between the letters of some scripts
# (Persian, Indic); in Latin names they only hide differences.
_JOINERS = {"\u200c", "\u200d"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text) if text and not text.isascii() else text


def _keeps_joiner(text: str, i: int) -> bool:
    before, after = text[i - 1 : i], text[i + 1 : i + 2]
    return all(
        c and not c.isascii() and unicodedata.category(c)[0] in "LM" for c in (before, after)
    ) and not (_latin(before) or _latin(after))


def _latin(char: str) -> bool:
    return "LATIN" in unicodedata.name(char, "")


def visible(text: str) -> str:
    """``text`` in NFC without invisible format characters."""
    text = nfc(text or "")
    if text.isascii():
        return text
    return "".join(
        c
        for i, c in enumerate(text)
        if unicodedata.category(c) != "Cf" or (c in _JOINERS and _keeps_joiner(text, i))
    )


def clean_name(text: str) -> str:
    """A name as stored: visible characters in NFC, without surrounding white space
    (a name of spaces only becomes "")."""
    return visible(text).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def spellings(word: str) -> set[str]:
    """The ways a word may be typed: Müller → {mueller, muller}."""
    return {w for w in (fold(word), strip_accents(word)) for w in _WORD.findall(w)}


def company_key(name: str) -> str:
    """A company name without legal form, punctuation or case: for comparing."""
    text = (name or "").lower()
    text = _LEGAL_FORM.sub(" ", text)
    return " ".join(words(text))


def street_key(street: str) -> str:
    """Hauptstraße 5 = Hauptstr. 5 = Hauptstrasse 5."""
    return " ".join(words(_STREET.sub("str ", (street or "").lower())))


def phone_e164(number: str, region: str = "DE") -> str:
    """The number in E.164 (+4922112345), or "" if it is not a valid number."""
    try:
        parsed = phonenumbers.parse(number or "", region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


# --- Kölner Phonetik ---------------------------------------------------------------------
# The German counterpart to Soundex: Meier, Maier, Mayer and Meyer all code "67".

_VOWELS = set("aeijouy")


def cologne_phonetic(word: str) -> str:
    letters = [c for c in strip_accents(word) if "a" <= c <= "z"]
    codes: list[str] = []
    for i, c in enumerate(letters):
        # "_" for "no letter": `"" in "csz"` would be true.
        prev = letters[i - 1] if i > 0 else "_"
        nxt = letters[i + 1] if i + 1 < len(letters) else "_"
        codes.append(_code(c, prev, nxt, first=i == 0))
    result: list[str] = []
    for code in codes:
        if result and code == result[-1]:
            continue
        result.append(code)
    head, tail = result[:1], [c for c in result[1:] if c != "0"]
    return "".join(c for c in head + tail if c != "-")


def _code(c: str, prev: str, nxt: str, *, first: bool) -> str:
    if c in _VOWELS:
        return "0"
    if c == "h":
        return "-"
    if c == "b":
        return "1"
    if c == "p":
        return "3" if nxt == "h" else "1"
    if c in "dt":
        return "8" if nxt in "csz" else "2"
    if c in "fvw":
        return "3"
    if c in "gkq":
        return "4"
    if c == "c":
        if first:
            return "4" if nxt in "ahkloqrux" else "8"
        return "8" if prev in "sz" or nxt not in "ahkoqux" else "4"
    if c == "x":
        return "8" if prev in "ckq" else "48"
    if c == "l":
        return "5"
    if c in "mn":
        return "6"
    if c == "r":
        return "7"
    return "8"  # s, z


def phonetic_words(text: str) -> list[str]:
    return [code for code in (cologne_phonetic(w) for w in words(text)) if code]
