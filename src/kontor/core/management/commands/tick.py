from django.core.management.base import BaseCommand

from kontor.core import scheduler


class Command(BaseCommand):
    help = (
        "Enqueue every periodic task (settings.PERIODIC_TASKS) once, for cron; "
        "with --run, run them here instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--run", action="store_true", help="run the tasks now instead of enqueueing them"
        )

    def handle(self, *args, run, **options):
        if run:
            for path, result in scheduler.run_all().items():
                failed = isinstance(result, Exception)
                style = self.style.ERROR if failed else self.style.SUCCESS
                self.stdout.write(style(f"{path}: {'failed: ' if failed else ''}{result}"))
            return
        for path in scheduler.enqueue_all():
            self.stdout.write(f"{path}: enqueued")
