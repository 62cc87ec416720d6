"""Documents and queries turned into the same normalised tokens.

A document's token text holds every word in both spellings (Müller → ``mueller``,
``muller``) and the word's Kölner-Phonetik code behind ``PHONETIC`` (``φ657``), so
that a typo still finds the record. ``PHONETIC`` is a letter that no folded word
contains (they are ``[0-9a-z]``) and that both FTS5's unicode61 tokenizer and
PostgreSQL's parser keep inside the token, so a code never collides with a word or a
number. The words of the title are in it once more behind ``TITLE`` (``τmueller``,
``τφ657``), so that the search can rank a match in the name above one in another
field (an e-mail domain, a city). A query is parsed into terms; every term must
match, each by a spelling (as a prefix) or by its phonetic code.
"""

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence

from kontor.core.normalize import cologne_phonetic, digits, fold, spellings, visible

PHONETIC = "φ"
# Like PHONETIC: a letter no folded word contains, kept inside the token by both
# tokenizers; it marks the words of the title, before any phonetic code (``τφ657``).
TITLE = "τ"
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MAX_FIELD_LENGTH = 2_000  # of one free-text value (a long custom text)

# Letters and digits of any script: what both tokenizers see as a word.
_RAW_WORD = re.compile(r"[^\W_]+")
_ALNUM_RUNS = re.compile(r"[a-z]+|[0-9]+")
# A query that is a phone number (or a customer number of digits) in any notation.
_PHONE_LIKE = re.compile(r"\+?[\d\s()/.\-]+")
_MIN_PHONE_DIGITS = 4
# An e-mail address as typed, whole or up to somewhere after the "@".
_EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]*")
_TRUNK = re.compile(r"\(\s*0\s*\)")  # "+49 (0)221 …"
DEFAULT_COUNTRY_CODE = "49"


@dataclasses.dataclass(frozen=True)
class SearchDocument:
    """What a record contributes to the index; a model's ``search_document()``.

    ``names`` and ``text`` are matched by spelling and phonetic code; ``emails``
    whole, by local part and by their words; ``phones`` by their digits in national
    and international notation; ``numbers`` (customer numbers) by their parts and
    compacted; ``custom`` is the record's custom-field values (text is indexed)."""

    title: str
    subtitle: str = ""
    sort_key: str = ""
    names: Sequence[str] = ()
    text: Sequence[str] = ()
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()
    numbers: Sequence[str] = ()
    custom: Mapping[str, object] | None = None


_SPELLED_OUT = re.compile(r"([aou])e")


def _spellings(raw: str) -> list[str]:
    """``normalize.spellings`` plus the spelled-out umlauts collapsed: "Mueller"
    typed for "Müller" gives {mueller, muller}, so that Müller, Mueller and Muller
    each find the other two by spelling, not only by sound."""
    found = spellings(raw)
    return sorted(found | {_SPELLED_OUT.sub(r"\1", w) for w in found})


@functools.lru_cache(maxsize=100_000)
def _word_tokens(raw: str) -> tuple[str, ...]:
    """Spellings and phonetic code of one raw word; cached, names repeat a lot."""
    found = _spellings(raw)
    if raw.isalpha() and len(raw) > 1:
        code = cologne_phonetic(raw)
        if code:
            found.append(PHONETIC + code)
    return tuple(found)


@functools.lru_cache(maxsize=100_000)
def _text_tokens(text: str) -> tuple[str, ...]:
    """Cached too: cities, first names and company names repeat."""
    found: list[str] = []
    # NFC: a decomposed "Mu\u0308ller" would split at the combining mark ("mu", "ller");
    # so would a name at a zero-width space.
    for raw in _RAW_WORD.findall(visible((text or "")[:MAX_FIELD_LENGTH]).lower()):
        found.extend(_word_tokens(raw))
    return tuple(found)


@functools.lru_cache(maxsize=100_000)
def _phone_variants(number: str) -> frozenset[str]:
    """The digits of a number as typed, internationally (49221…) and nationally
    (0221…, 221…). German numbering by default, like the rest of Kontor. Plain
    digit rules rather than ``phonenumbers``: twenty times faster for the rebuild,
    and the query side uses the same rules, so both always agree."""
    text = _TRUNK.sub("", number.strip())
    found = {digits(number), digits(text)}
    number_digits = digits(text)
    if text.startswith(("+", "00")):
        international = number_digits[2:] if text.startswith("00") else number_digits
        found.add(international)
        if international.startswith(DEFAULT_COUNTRY_CODE):
            national = international[len(DEFAULT_COUNTRY_CODE) :]
            found |= {national, "0" + national}
    elif number_digits.startswith("0") and not number_digits.startswith("00"):
        national = number_digits[1:]
        found |= {national, DEFAULT_COUNTRY_CODE + national}
    return frozenset(v for v in found if v)


def _custom_texts(custom: Mapping[str, object] | None) -> Iterable[str]:
    for value in (custom or {}).values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _fold(text: str) -> str:
    """``normalize.fold``, with a shortcut for plain ASCII (most e-mail addresses and
    numbers), which only needs lower case: the rebuild folds a million of them."""
    return text.lower() if text.isascii() else fold(text)


def document_tokens(doc: SearchDocument) -> str:
    """The token text of a document: unique tokens, separated by spaces."""
    tokens = [TITLE + token for token in _text_tokens(doc.title)]
    extend = tokens.extend
    for text in (*doc.names, *doc.text, *_custom_texts(doc.custom)):
        extend(_text_tokens(text))
    for email in doc.emails:
        if not email:
            continue
        local = email.lower().partition("@")[0]
        tokens.append("".join(_RAW_WORD.findall(_fold(local))))
        tokens.append("".join(_RAW_WORD.findall(_fold(email))))
        extend(_text_tokens(email))
    for phone in doc.phones:
        if phone:
            extend(sorted(_phone_variants(phone)))  # sorted: the same text every time
    for number in doc.numbers:
        compact = "".join(_RAW_WORD.findall(_fold(number)))
        tokens.append(compact)
        extend(_ALNUM_RUNS.findall(compact))
    unique = dict.fromkeys(tokens)  # an ordered set
    unique.pop("", None)
    return " ".join(unique)


@dataclasses.dataclass(frozen=True)
class Term:
    """One word of a query: matches a token starting with one of ``prefixes`` or,
    for typo tolerance, the phonetic code (a prefix of codes if ``phonetic_prefix``)."""

    prefixes: tuple[str, ...]
    phonetic: str = ""
    phonetic_prefix: bool = False
    # Matches few records (an e-mail address): look them up first, then sort.
    selective: bool = False


def clean_query(q: str | None) -> str:
    """The query as a user meant it: no control characters, bounded length."""
    text = "".join(c if c.isprintable() else " " for c in visible((q or "")[:MAX_QUERY_LENGTH]))
    return " ".join(text.split())


def parse_query(q: str | None) -> list[Term]:
    """The terms of a query; empty if nothing searchable is left. Terms consist of
    ``[0-9a-z]`` and ``PHONETIC`` only, so they are safe in FTS5 and tsquery syntax."""
    text = clean_query(q)
    if _PHONE_LIKE.fullmatch(text) and len(digits(text)) >= _MIN_PHONE_DIGITS:
        return [Term(prefixes=tuple(sorted(_phone_variants(text))))]
    if _EMAIL_LIKE.fullmatch(text):
        # One term: the whole address as indexed (its characters run together), as a
        # prefix while it is typed. Its parts as words ("anna", "example", …) would
        # each match a large share of the index and make the search slow.
        compact = "".join(_RAW_WORD.findall(_fold(text)))
        if len(compact) >= 3:
            return [Term(prefixes=(compact,), selective=True)]
    terms = []
    for raw in _RAW_WORD.findall(text.lower())[:MAX_TERMS]:
        prefixes = tuple(_spellings(raw))
        if not prefixes:
            continue
        code = cologne_phonetic(raw) if raw.isalpha() and len(raw) >= 3 else ""
        terms.append(
            Term(
                prefixes=prefixes,
                phonetic=PHONETIC + code if code else "",
                # A one-digit code ("Mai" → 6) as a prefix would match a tenth of all
                # names: too broad to be useful, and slow.
                phonetic_prefix=len(code.lstrip("0")) >= 2,
            )
        )
    if len(terms) >= 3:
        # An e-mail address or a long name: "a" and "de" narrow nothing down, but a
        # one- or two-letter prefix matches most of the index.
        terms = [t for t in terms if max(map(len, t.prefixes)) > 2] or terms
    return terms


def sort_key(title: str) -> str:
    return " ".join(_RAW_WORD.findall(_fold(visible(title))))[:300]
