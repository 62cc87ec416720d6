from django.db import models


class MatchKeyField(models.CharField):
    """A normalised copy of a field, kept by the services for indexed duplicate
    lookups (customers.duplicates.derive_keys). Never edited, never audited: it only
    repeats what the audited source field already says."""

    audited = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)
