from django.core.management.base import BaseCommand

from kontor.processes.scenes import SCENES, scenes_install


class Command(BaseCommand):
    help = (
        "Install the shipped customer scenes (trade-fair visitor → new customer, complaint …) "
        "as published processes. Scenes that exist already are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--language", choices=["de", "en"], default="de", help="language of the texts"
        )

    def handle(self, *args, language, **options):
        created = scenes_install(language=language)
        for process in created:
            self.stdout.write(f"  {process.key}: {process.name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Scenes installed: {len(created)} new, "
                f"{len(SCENES) - len(created)} already present"
            )
        )
