"""The state of a customer list — filters, sort, columns, cursor — parsed from query
parameters, shared by the web lists, their bulk actions and exports, and the API.

URL parameters (every one optional, so any combination is a bookmarkable view):
- ``q``: quick search through the search index, as the global search matches
  (names, e-mail, phone, company, city, customer number; umlauts either way, typos
  in names by sound; see core.search.filter_matching)
- text field ``<name>=text`` (contains) or ``<name>__start=text`` (starts with)
- choice field ``<name>=value`` (repeatable: any of them)
- date and number field ``<name>__from=…`` / ``<name>__to=…`` (inclusive, ISO dates)
- ``owner=<user uuid>|me``, ``team=<team uuid>``, ``organization=<uuid>``,
  ``parent=<uuid>``, ``tag=<tag id>`` (repeatable: any of them)
- ``has_email=1|0``, ``has_phone=1|0``
- custom field ``cf.<key>=value`` (exact; contains for text), ``cf.<key>__from``,
  ``cf.<key>__to``, ``cf.<key>__empty=1``
- ``sort=<column>`` or ``sort=-<column>``; ``cols=<column>,<column>`` (or repeated)
- ``cursor``: the keyset cursor of the next page

Unknown parameters are ignored; malformed values become form errors (``errors``).
"""

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from kontor.core import customfields, search
from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import queries
from kontor.customers.models import PSYCHOGRAPHIC_FIELDS, Organization, Person

TEXT, CHOICE, DATE, NUMBER, RELATION, TAG, PRESENCE = (
    "text",
    "choice",
    "date",
    "number",
    "relation",
    "tag",
    "presence",
)
CF_PREFIX = "cf."
MAX_VALUES = 50  # per parameter: a URL is no place for thousands of ids

# Never filters or columns: internal, or shown otherwise.
_SKIP = {"id", "uuid", "custom", "version", "tags"}


@dataclass(frozen=True)
class Filter:
    name: str
    label: Any
    kind: str
    choices: tuple = ()


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    sort: tuple[str, ...] | None = None  # the keyset order when sorting by it
    custom: Any = None  # a core.CustomField for custom columns


@dataclass(frozen=True)
class Entity:
    model: type[models.Model]
    default_sort: str
    default_columns: tuple[str, ...]
    sorts: dict[str, tuple[str, ...]]
    base: Any  # (user) -> visible queryset with what the list shows joined
    search_kind: str  # the kind of its entries in the search index (core.search.KINDS)

    @property
    def key(self) -> str:
        return customfields.entity_of(self.model)


PERSONS = Entity(
    model=Person,
    default_sort="name",
    default_columns=("name", "organization", "email", "phone", "city", "owner"),
    sorts={
        "name": ("last_name", "first_name", "id"),
        "email": ("email", "id"),
        "city": ("city", "last_name", "id"),
        "postal_code": ("postal_code", "id"),
        "birth_date": ("birth_date", "id"),
        "created_at": ("created_at", "id"),
        "updated_at": ("updated_at", "id"),
    },
    base=lambda user: queries.person_list(user=user),
    search_kind="person",
)
ORGANIZATIONS = Entity(
    model=Organization,
    default_sort="name",
    default_columns=("name", "kind", "status", "city", "owner"),
    sorts={
        "name": ("name", "id"),
        "city": ("city", "name", "id"),
        "postal_code": ("postal_code", "id"),
        "status": ("status", "name", "id"),
        "kind": ("kind", "name", "id"),
        "employees": ("employees", "id"),
        "customer_number": ("customer_number", "id"),
        "created_at": ("created_at", "id"),
        "updated_at": ("updated_at", "id"),
    },
    base=lambda user: queries.organization_list(user=user),
    search_kind="organization",
)
ENTITIES = {"person": PERSONS, "organization": ORGANIZATIONS}


def shown(field) -> bool:
    """A field people enter or read, not one the system keeps for itself (match keys)."""
    return field.editable or field.name in ("created_at", "updated_at")


def _may_see(user, name: str) -> bool:
    return name not in PSYCHOGRAPHIC_FIELDS or user_can(user, Capability.CUSTOMERS_PSYCHOGRAPHIC)


def filters_for(entity: Entity, user) -> list[Filter]:
    """Every field of the entity as a filter, as far as the user may see it."""
    result = []
    for f in entity.model._meta.get_fields():
        if f.name in _SKIP or not getattr(f, "concrete", False) or not _may_see(user, f.name):
            continue
        if not shown(f):
            continue
        label = getattr(f, "verbose_name", f.name)
        if isinstance(f, models.ForeignKey):
            result.append(Filter(f.name, label, RELATION))
        elif f.choices:
            result.append(Filter(f.name, label, CHOICE, tuple(c for c in f.choices if c[0])))
        elif isinstance(f, models.DateField):  # DateTimeField too
            result.append(Filter(f.name, label, DATE))
        elif isinstance(f, models.IntegerField | models.DecimalField):
            result.append(Filter(f.name, label, NUMBER))
        elif isinstance(f, models.CharField | models.TextField):
            result.append(Filter(f.name, label, TEXT))
    result.append(Filter("tag", _("tag"), TAG))
    result.append(Filter("has_email", _("has an e-mail address"), PRESENCE))
    result.append(Filter("has_phone", _("has a phone number"), PRESENCE))
    return result


def columns_for(entity: Entity, user, custom_fields) -> dict[str, Column]:
    """The columns a user may choose, by key: built-in fields, then custom fields."""
    columns = {"name": Column("name", _("Name"), entity.sorts["name"])}
    for f in entity.model._meta.get_fields():
        if f.name in _SKIP or f.name == "name" or not getattr(f, "concrete", False):
            continue
        if not shown(f) or not _may_see(user, f.name):
            continue
        if f.name in ("first_name", "last_name", "title"):
            continue
        columns[f.name] = Column(f.name, f.verbose_name, entity.sorts.get(f.name))
    columns["tags"] = Column("tags", _("tags"))
    for cf in custom_fields:
        columns[CF_PREFIX + cf.key] = Column(
            CF_PREFIX + cf.key, customfields.label_of(cf), custom=cf
        )
    return columns


@dataclass
class ListQuery:
    """One list request, parsed. ``queryset()`` gives the filtered rows (visible to
    the user only), ``order`` the keyset order for core.api.pagination.paginate."""

    entity: Entity
    user: Any
    params: QueryDict
    q: str = ""
    sort: str = ""
    descending: bool = False
    columns: list[Column] = field(default_factory=list)
    conditions: list[Q] = field(default_factory=list)
    active: dict[str, list[str]] = field(default_factory=dict)  # the applied filters
    errors: dict[str, list[str]] = field(default_factory=dict)
    custom_fields: list = field(default_factory=list)

    @classmethod
    def parse(cls, entity: Entity, user, params: QueryDict) -> "ListQuery":
        lq = cls(entity=entity, user=user, params=params)
        lq.custom_fields = customfields.active_fields(entity.key)
        # As the filter values: a NUL (only in a tampered saved or bulk query; the
        # page's own query string is refused at the edge) is dropped.
        lq.q = params.get("q", "").replace("\x00", "").strip()[:200]
        lq._parse_filters()
        lq._parse_sort()
        lq._parse_columns()
        return lq

    # --- parsing -----------------------------------------------------------------

    def _values(self, name: str) -> list[str]:
        values = [v.strip() for v in self.params.getlist(name)[:MAX_VALUES]]
        return [v.replace("\x00", "") for v in values if v]

    def _add(self, param: str, values: list[str], condition: Q) -> None:
        self.conditions.append(condition)
        self.active[param] = values

    def _error(self, param: str, message) -> None:
        self.errors.setdefault(param, []).append(str(message))

    def _parse_filters(self) -> None:
        for spec in filters_for(self.entity, self.user):
            try:
                self._parse_one(spec)
            except (ValidationError, ValueError, InvalidOperation):
                self._error(spec.name, _("This value cannot be used as a filter."))
        for cf in self.custom_fields:
            self._parse_custom(cf)

    def _parse_one(self, spec: Filter) -> None:
        name = spec.name
        if spec.kind == TEXT:
            if values := self._values(name):
                self._add(name, values[:1], Q(**{f"{name}__icontains": values[0]}))
            if values := self._values(f"{name}__start"):
                self._add(f"{name}__start", values[:1], Q(**{f"{name}__istartswith": values[0]}))
        elif spec.kind == CHOICE:
            allowed = {str(c[0]) for c in spec.choices}
            if values := self._values(name):
                if not set(values) <= allowed:
                    raise ValidationError("unknown choice")
                self._add(name, values, Q(**{f"{name}__in": values}))
        elif spec.kind in (DATE, NUMBER):
            field = self.entity.model._meta.get_field(name)
            for suffix, lookup in (("__from", "gte"), ("__to", "lte")):
                if values := self._values(name + suffix):
                    value = _typed(field, values[0])
                    path = f"{name}__date" if isinstance(field, models.DateTimeField) else name
                    self._add(name + suffix, values[:1], Q(**{f"{path}__{lookup}": value}))
        elif spec.kind == RELATION:
            if values := self._values(name):
                self._add(name, values, self._relation(name, values))
        elif spec.kind == TAG:
            if values := self._values(name):
                ids = [int(v) for v in values]
                self._add(
                    name,
                    values,
                    Q(
                        pk__in=self.entity.model.tags.through.objects.filter(tag_id__in=ids).values(
                            f"{self.entity.model._meta.model_name}_id"
                        )
                    ),
                )
        elif spec.kind == PRESENCE and (values := self._values(name)):
            column = "email" if name == "has_email" else "phone"
            present = values[0] in ("1", "true", "yes")
            empty = Q(**{column: ""})
            if column == "phone" and self.entity.model is Person:
                empty &= Q(mobile="")
            self._add(name, values[:1], ~empty if present else empty)

    def _relation(self, name: str, values: list[str]) -> Q:
        """Relations by public id (users, teams and records by uuid), resolved to
        primary keys first: ``owner_id = 7`` lets the database walk the
        (owner, name) index in order, a join on the user's uuid does not."""
        field = self.entity.model._meta.get_field(name)
        me = [self.user.pk] if name == "owner" and "me" in values else []
        uuids = [_uuid(v) for v in values if not (name == "owner" and v == "me")]
        related = field.related_model._default_manager.all()
        if field.related_model is Organization:
            # Filtering by an organization one may not see would tell who works there.
            related = related.visible_to(self.user)
        ids = me + list(
            related.filter(uuid__in=uuids).values_list("pk", flat=True) if uuids else []
        )
        if len(ids) == 1:
            return Q(**{f"{name}_id": ids[0]})
        return Q(**{f"{name}_id__in": ids})

    def _parse_custom(self, cf) -> None:
        base = CF_PREFIX + cf.key
        text = cf.field_type in ("text", "long_text", "url", "email")
        spec = [(base, "contains" if text else "exact"), (base + "__from", "gte")]
        spec += [(base + "__to", "lte"), (base + "__empty", "isnull")]
        for param, lookup in spec:
            if values := self._values(param):
                try:
                    condition = customfields.filter_q(
                        self.entity.key, cf.key, values[0], lookup=lookup
                    )
                except ValidationError as exc:
                    for message in exc.messages:
                        self._error(param, message)
                    continue
                self._add(param, values[:1], condition)

    def _parse_sort(self) -> None:
        raw = self.params.get("sort", "")
        key = raw.removeprefix("-")
        if key not in self.entity.sorts:
            key, raw = self.entity.default_sort, self.entity.default_sort
        self.sort, self.descending = key, raw.startswith("-")

    def _parse_columns(self) -> None:
        available = columns_for(self.entity, self.user, self.custom_fields)
        keys = []
        for raw in self.params.getlist("cols")[:MAX_VALUES]:
            keys += [k.strip() for k in raw.split(",") if k.strip()]
        keys = [k for k in dict.fromkeys(keys) if k in available]
        if not keys:
            keys = list(self.entity.default_columns)
        if "name" not in keys:
            keys.insert(0, "name")  # the link to the record
        self.columns = [available[k] for k in keys]
        self.available_columns = list(available.values())

    # --- results -----------------------------------------------------------------

    @property
    def order(self) -> tuple[str, ...]:
        order = self.entity.sorts[self.sort]
        if self.descending:
            return tuple(f"-{f}" for f in order)
        return order

    def queryset(self) -> QuerySet:
        rows = self.entity.base(self.user)
        if self.q:
            rows = search.filter_matching(rows, kind=self.entity.search_kind, q=self.q)
        for condition in self.conditions:
            rows = rows.filter(condition)
        return rows

    def state(self) -> dict[str, list[str]]:
        """The parameters that make this view (no cursor), for links and saved views."""
        state: dict[str, list[str]] = {}
        if self.q:
            state["q"] = [self.q]
        state.update(self.active)
        if self.sort != self.entity.default_sort or self.descending:
            state["sort"] = [("-" if self.descending else "") + self.sort]
        keys = [c.key for c in self.columns]
        if keys != list(self.entity.default_columns):
            state["cols"] = [",".join(keys)]
        return state

    def querystring(self, **changes) -> str:
        state = self.state()
        for name, value in changes.items():
            if value is None:
                state.pop(name, None)
            else:
                state[name] = [value]
        return urlencode(state, doseq=True)

    def sort_querystring(self, column: Column) -> str:
        """The view sorted by ``column``; again to reverse the direction."""
        ascending_now = self.sort == column.key and not self.descending
        return self.querystring(sort=("-" if ascending_now else "") + column.key)


def _uuid(value) -> str:
    return str(uuid.UUID(str(value)))


def _typed(field, value: str):
    if isinstance(field, models.DateField):
        return datetime.date.fromisoformat(value)
    if isinstance(field, models.DecimalField):
        return Decimal(value)
    return int(value)


def parse(entity: Entity, user, params: QueryDict) -> ListQuery:
    return ListQuery.parse(entity, user, params)
