"""Checking and normalising contact data the same way for forms, API and vCard import:
phones in E.164, German postal codes, VAT IDs, countries (ISO 3166), languages and
birth dates. Each checker returns the value to store
or raises ValidationError with a message in the user's language."""

import datetime
import re

import phonenumbers
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers.geodata.locale import LOCALE_DATA

DEFAULT_REGION = "DE"

_DE_POSTAL_CODE = re.compile(r"\d{5}")
_LENIENT_POSTAL_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z \-]{1,14}")
_DE_VAT_ID = re.compile(r"DE\d{9}")
# Every EU VAT ID: two-letter prefix (EL for Greece, XI for Northern Ireland), 2–12
# letters or digits. Only the German one is checked exactly.
_EU_VAT_ID = re.compile(
    r"(AT|BE|BG|CY|CZ|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
    r"[0-9A-Z]{2,12}"
)


def phone_normalize(value: str, *, region: str = DEFAULT_REGION) -> str:
    """A phone number as typed ("0221 12345-6", "+49 (221) 123456") in E.164
    ("+492211234566"); "" stays "". Raises ValidationError for an invalid number."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("Enter a valid phone number, e.g. 0221 123456 or +49 221 123456."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(value: str, *, region: str = DEFAULT_REGION) -> str:
    """A stored number for people: national format for numbers of ``region``
    ("0221 123456"), international otherwise ("+43 1 234567"). Stored text that is
    not a number (older data) is shown as it is."""
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def postal_code_normalize(value: str, *, country: str) -> str:
    """German postal codes have five digits; elsewhere letters, digits, spaces and
    hyphens are accepted (UK "SW1A 1AA", NL "1234 AB", CH "8001")."""
    value = (value or "").strip()
    if not value:
        return ""
    if (country or DEFAULT_REGION).upper() == "DE":
        if not _DE_POSTAL_CODE.fullmatch(value):
            raise ValidationError(_("A German postal code has five digits, e.g. 50667."))
    elif not _LENIENT_POSTAL_CODE.fullmatch(value):
        raise ValidationError(_("Enter a valid postal code."))
    return value


def vat_id_normalize(value: str) -> str:
    """A VAT ID without spaces or dots, upper case. German: DE and nine digits; other
    EU prefixes are accepted leniently; anything else is refused."""
    value = re.sub(r"[\s.\-]", "", value or "").upper()
    if not value:
        return ""
    if value.startswith("DE"):
        if not _DE_VAT_ID.fullmatch(value):
            raise ValidationError(_("A German VAT ID is DE followed by nine digits."))
    elif not _EU_VAT_ID.fullmatch(value):
        raise ValidationError(
            _("Enter a VAT ID with its country prefix, e.g. DE123456789 or ATU12345678.")
        )
    return value


# ISO 3166-1 alpha-2: phonenumbers names every country in its locale data; "AN"
# (Netherlands Antilles) was withdrawn from the standard in 2010.
COUNTRY_CODES = frozenset(LOCALE_DATA) - {"AN"}
# The languages Django knows by code (de, en, fr, pt-br, zh-hans …).
LANGUAGE_CODES = frozenset(LANG_INFO)
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


def country_normalize(value: str) -> str:
    """An ISO 3166 country code in upper case ("de" → "DE"); "" stays "" (the model
    says whether a country is required)."""
    value = (value or "").strip().upper()
    if value and value not in COUNTRY_CODES:
        raise ValidationError(_("Enter a country as its ISO 3166 code, e.g. DE, AT or CH."))
    return value


def language_normalize(value: str) -> str:
    """A language code Kontor knows, in lower case ("DE" → "de", "pt-BR" → "pt-br")."""
    value = (value or "").strip().lower().replace("_", "-")
    if value and value not in LANGUAGE_CODES:
        raise ValidationError(_("Enter a language as its code, e.g. de, en or fr."))
    return value


def birth_date_check(value: datetime.date | None) -> datetime.date | None:
    """A birth date lies between 1900 and today."""
    if value is None:
        return None
    if value > timezone.localdate():
        raise ValidationError(_("A birth date cannot lie in the future."))
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(_("Enter a birth date from 1900 on."))
    return value


def customer_number_for(pk: int) -> str:
    """The customer number derived from the primary key: K-0000123."""
    return f"K-{pk:07d}"
