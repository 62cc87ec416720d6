"""Model fields shared by the domain apps."""

from django.db import models


class WebsiteField(models.URLField):
    """A URL field whose form assumes https:// for bare domains ("example.de"), as
    Django 6 will by default."""

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)
