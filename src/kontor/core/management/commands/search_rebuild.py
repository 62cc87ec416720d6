from django.core.management.base import BaseCommand

from kontor.core import search


class Command(BaseCommand):
    help = "Rebuild the global search index from the records (after bulk loads or imports)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            action="append",
            choices=list(search.KINDS),
            dest="kinds",
            help="only this kind (repeatable); all kinds by default",
        )

    def handle(self, *args, kinds, **options):
        counts = search.rebuild(kinds=kinds, progress=self.stdout.write)
        summary = ", ".join(f"{n:,} {kind}s" for kind, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt: {summary}"))
