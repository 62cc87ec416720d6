"""Global search over customer records (and later opportunities, cases, quotes).

The interface every app uses; the index itself is built in this package:
- ``index(instance)`` after a searchable record is created or changed,
- ``unindex(instance)`` before it is deleted,
- ``search(user=..., q=..., kinds=None, limit=...)`` for the search box and the API.
A searchable model defines ``search_document()``.
"""


def index(instance) -> None:
    """(Re)index one record. Called by services inside their transaction."""


def unindex(instance) -> None:
    """Remove one record from the index. Called by services before deleting it."""
