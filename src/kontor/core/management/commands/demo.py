from django.core.management.base import BaseCommand

from kontor.demo.data import DEMO_PASSWORD, SIZES, demo_logins, load_demo


class Command(BaseCommand):
    help = "Load realistic German demo data (small for trying out, medium/large for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, size, seed, logins, **options):
        if not logins:
            counts = load_demo(size=size, seed=seed, progress=self.stdout.write)
            summary = ", ".join(f"{n} {label}" for label, n in counts.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in demo_logins():
            self.stdout.write(f"  {username:<12} {role}")
