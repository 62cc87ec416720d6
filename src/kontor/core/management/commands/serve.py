import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from kontor.core.supervisor import Supervisor


class Command(BaseCommand):
    help = "Serve Kontor with gunicorn (static files included); optionally run the worker too."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("KONTOR_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
        parser.add_argument(
            "--with-worker", action="store_true", help="also start the background worker"
        )

    def handle(self, *args, bind, workers, threads, with_worker, **options):
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        kontor = [sys.executable, "-m", "kontor.cli"]
        worker = Supervisor([*kontor, "worker"]) if with_worker else None
        if worker is not None:
            worker.start()
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                # Limits and problem+json answers for what gunicorn refuses itself.
                "--config",
                "python:kontor.core.web_server",
                "kontor.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ]
        )

        def stop(signum, frame):
            # Only signal here; the waiting happens below, outside the handler.
            if worker is not None:
                worker.request_stop()
            if web.poll() is None:
                web.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = web.wait()
        if worker is not None:
            worker.stop()  # SIGTERM: the worker finishes its chunk; reaped here
        sys.exit(code)
