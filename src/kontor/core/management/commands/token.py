from django.core.management.base import BaseCommand, CommandError

from kontor.core.api.auth import token_create
from kontor.core.models import TokenScope, User


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (shown once; store it safely)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ_WRITE)
        parser.add_argument("--name", default="script")

    def handle(self, *args, username, scope, name, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"No active user named {username!r}.") from exc
        _token, raw = token_create(user=user, name=name, scope=scope)
        self.stdout.write(raw)
