from django.core.management import call_command
from django.core.management.base import BaseCommand

from kontor.core import scheduler


class Command(BaseCommand):
    help = (
        "Run the background worker (django-tasks database backend), and the scheduler "
        "that enqueues the periodic tasks (settings.PERIODIC_TASKS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*")
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="do not enqueue periodic tasks from this worker",
        )

    def handle(self, *args, queue_name, no_scheduler, **options):
        stop = None
        if not no_scheduler:
            # A daemon thread: it ends with the worker. With several workers, the
            # shared cache lets only one of them enqueue each task per interval.
            _thread, stop = scheduler.start_thread()
        try:
            call_command("db_worker", "--queue-name", queue_name, "--no-reload")
        finally:
            if stop is not None:
                stop.set()
