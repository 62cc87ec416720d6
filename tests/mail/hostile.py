"""Hostile values for every text field, and the checks that they stay text.

A value like ``<b hx-post=/pwned/ hx-trigger=load>`` becomes an element with an
htmx attribute only if a page lets it through unescaped; parsed back, the page then
has an ``hx-*`` (or ``on*``) attribute whose value names ``pwned``. And every place
the value shows up as text must lie inside an ``hx-disable`` region (htmx ignores
any ``hx-*`` there), so that a future escaping mistake still does nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.db import models

MARKER = "pwned"
# Fits a 40-character field; a shorter one for narrower fields.
HOSTILE = '<b hx-post=/pwned/ hx-trigger=load>"&'
HOSTILE_SHORT = "<i hx-get=/pwned/>"
RAW_TAGS = ("<b hx-", "<i hx-", "<img src=x")

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "source", "track", "wbr",
}  # fmt: skip
# Where escaped user text may show outside hx-disable: the page title and the
# options of a select (plain text to the browser, never parsed for hx-*).
TEXT_ONLY = {"title", "option", "textarea"}


def hostile_for(max_length: int | None) -> str | None:
    """The longest hostile value that fits ``max_length`` (None: none fits)."""
    for value in (HOSTILE, HOSTILE_SHORT):
        if max_length is None or len(value) <= max_length:
            return value
    return None


def hostile_values(model: type[models.Model], *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """A hostile value for every free text field of ``model`` (not choices, e-mail,
    URL or slug fields, which their validators keep clean)."""
    values = {}
    for f in model._meta.get_fields():
        if not isinstance(f, (models.CharField, models.TextField)) or f.name in skip:
            continue
        if f.choices or isinstance(f, (models.EmailField, models.URLField, models.SlugField)):
            continue
        if not f.editable or getattr(f, "primary_key", False):
            continue
        value = hostile_for(f.max_length)
        if value is not None:
            values[f.name] = value
    return values


@dataclass
class _Finding:
    injected: list[str] = field(default_factory=list)
    outside_disable: list[str] = field(default_factory=list)


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, carries hx-disable)
        self.found = _Finding()

    def _disabled(self) -> bool:
        return any(disabled for _tag, disabled in self.stack)

    def _where(self) -> str:
        return "/".join(tag for tag, _disabled in self.stack)

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        for name, value in attrs:
            hx = name.startswith(("hx-", "data-hx-")) or name.startswith("on")
            if hx and MARKER in (value or ""):
                self.found.injected.append(f"<{tag} {name}={value!r}> in {self._where()}")
            if tag == "img" and name == "src" and value == "x":
                self.found.injected.append(f"<img src=x> in {self._where()}")
        for name, value in attrs:
            if MARKER in (value or "") and not name.startswith("hx-"):
                self._text_at(f"{tag}[{name}]", tag)
        if tag not in VOID:
            self.stack.append((tag, "hx-disable" in names or "data-hx-disable" in names))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if MARKER in data:
            self._text_at("text", self.stack[-1][0] if self.stack else "")

    def _text_at(self, what: str, tag: str) -> None:
        if self._disabled() or tag in TEXT_ONLY or any(t in TEXT_ONLY for t, _d in self.stack):
            return
        self.found.outside_disable.append(f"{what} in {self._where()}")


def assert_inert(html: str, *, require_disable: bool = True) -> None:
    """No element or attribute from the hostile values, and (``require_disable``)
    every place they show as text is inside an hx-disable region."""
    for raw in RAW_TAGS:
        assert raw not in html, f"unescaped {raw!r} in the page"
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.found.injected == [], checker.found.injected
    if require_disable:
        assert checker.found.outside_disable == [], checker.found.outside_disable


def assert_shown(html: str) -> None:
    """The hostile value is on the page (escaped): the page under test shows it."""
    assert "&lt;b hx-post=/pwned/" in html or "&lt;i hx-get=/pwned/" in html
