"""The drawing of an organization's buying center: one column per role, the persons
holding it below. Only coordinates are computed here; the template draws them as
inline SVG with presentation attributes and classes (the CSP forbids style attributes)."""

from dataclasses import dataclass, field

from kontor.customers.models import BuyingRole, ContactRole

COLUMN_WIDTH = 150
COLUMN_GAP = 10
HEAD_HEIGHT = 28
BOX_HEIGHT = 30
BOX_GAP = 6
NAME_LENGTH = 20


@dataclass
class Box:
    y: int
    name: str
    title: str
    url: str


@dataclass
class Column:
    role: str
    label: str
    x: int
    center: int
    boxes: list[Box] = field(default_factory=list)


@dataclass
class Drawing:
    width: int
    height: int
    box_width: int
    columns: list[Column]
    empty: bool


def _short(text: str) -> str:
    return text if len(text) <= NAME_LENGTH else text[: NAME_LENGTH - 1] + "…"


def drawing(contact_roles: list[ContactRole]) -> Drawing:
    """Columns for the six roles, in their order, each with the persons that hold
    the role (a person with two roles appears in both)."""
    columns = []
    for i, (role, label) in enumerate(BuyingRole.choices):
        x = i * (COLUMN_WIDTH + COLUMN_GAP)
        columns.append(Column(role=role, label=str(label), x=x, center=x + COLUMN_WIDTH // 2))
    by_role = {c.role: c for c in columns}
    for link in contact_roles:
        for role in link.buying_roles:
            column = by_role.get(role)
            if column is None:
                continue
            y = HEAD_HEIGHT + BOX_GAP + len(column.boxes) * (BOX_HEIGHT + BOX_GAP)
            title = link.person.full_name
            if link.job_title:
                title = f"{title}, {link.job_title}"
            column.boxes.append(
                Box(
                    y=y,
                    name=_short(link.person.full_name),
                    title=title,
                    url=link.person.get_absolute_url(),
                )
            )
    rows = max((len(c.boxes) for c in columns), default=0)
    return Drawing(
        width=len(columns) * (COLUMN_WIDTH + COLUMN_GAP) - COLUMN_GAP,
        height=HEAD_HEIGHT + BOX_GAP + max(rows, 1) * (BOX_HEIGHT + BOX_GAP),
        box_width=COLUMN_WIDTH,
        columns=columns,
        empty=rows == 0,
    )
