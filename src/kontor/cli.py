"""The ``kontor`` command: every manage.py command, plus serve and worker with sane defaults.

kontor serve [--bind 127.0.0.1:8000] [--workers N] [--with-worker]
kontor worker
kontor demo --size small|medium|large
kontor token USERNAME [--scope read|read_write]
kontor migrate, kontor createsuperuser, … (all Django management commands)
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "kontor"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
