import argparse

from django.core.management.base import BaseCommand

from kontor.demo.data import DEMO_PASSWORD, SIZES, demo_logins, load_demo


class Command(BaseCommand):
    help = "Load realistic German demo data (small for trying out, medium/large for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")
        # Tests and quick experiments: an exact number of persons instead of a size.
        parser.add_argument("--persons", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, size, seed, logins, persons, **options):
        if not logins:
            label = size if persons is None else f"{persons} persons"
            self.stdout.write(f"Loading demo data ({label}) …")
            counts = load_demo(size=size, seed=seed, progress=self.stdout.write, persons=persons)
            summary = ", ".join(f"{n:,} {label}" for label, n in counts.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in demo_logins():
            self.stdout.write(f"  {username:<12} {role}")
