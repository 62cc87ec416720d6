from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and its ``kontor demo`` command. An app of its own, above every domain
    app (it writes their rows), so that core imports none of them."""

    name = "kontor.demo"
    label = "demo"
    verbose_name = "Demo data"  # shown nowhere (no Django admin)
