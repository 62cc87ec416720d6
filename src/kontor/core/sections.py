"""Sections other apps add to the 360° customer page.

The customers app must not import the apps built on it (activities, sales, service …),
yet its page shows their data. Each of those apps registers a section in its
``AppConfig.ready()``; the page includes the registered templates in order, and keeps
a placeholder for the sections no app has registered yet.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerSection:
    key: str  # "contact-history", "sales", "cases", "processes" …
    template: str  # included with ``record`` (a Person or an Organization) in context
    order: int = 100


_sections: dict[str, CustomerSection] = {}


def register_customer_section(section: CustomerSection) -> None:
    _sections[section.key] = section


def customer_sections() -> list[CustomerSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def customer_section_keys() -> set[str]:
    return set(_sections)


# Buttons other apps add to the head of the 360° page ("Log activity", "Write e-mail" …):
# templates included with ``record`` in context, in registration order.
_action_templates: list[str] = []


def register_customer_actions(template: str) -> None:
    if template not in _action_templates:
        _action_templates.append(template)


def customer_action_templates() -> list[str]:
    return list(_action_templates)
