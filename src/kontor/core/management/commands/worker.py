import logging

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from kontor.core import jobs, scheduler


class KontorWorker(Worker):
    """django-tasks' database worker that also tells running jobs to stop: on SIGTERM
    or Ctrl-C a long job commits or drops its current chunk, goes back to the queue
    at its last committed chunk, and the worker exits; the next worker resumes it."""

    def shutdown(self, signum, frame) -> None:
        jobs.request_shutdown()
        super().shutdown(signum, frame)


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
        logging.getLogger("django_tasks_db").setLevel(logging.INFO)
        stop = None
        if not no_scheduler:
            # A daemon thread: it ends with the worker. With several workers, the
            # shared cache lets only one of them enqueue each task per interval.
            _thread, stop = scheduler.start_thread()
        worker = KontorWorker(
            queue_names=queue_name.split(","),
            interval=1,
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            worker.run()
        finally:
            if stop is not None:
                stop.set()
