from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database backend)."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*")

    def handle(self, *args, queue_name, **options):
        call_command("db_worker", "--queue-name", queue_name, "--no-reload")
