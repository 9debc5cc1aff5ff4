"""``manage.py build_query_encoder``: the ONNX export the fast query path needs.

Run by ``make model`` after ``build_embedding_model``. Exports the transformer of the configured
model (``KNOWLEDGE_EMBEDDING_MODEL``, a local directory) next to it, see
:mod:`search.onnx_export`; does nothing if the export is current, so it is cheap to run again and
an interrupted export is simply redone. A model that is not a local directory (a hub name) has no
export; its queries are embedded by torch.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.onnx_export import export_dir_for, export_onnx, is_export_current


class Command(BaseCommand):
    help = ("Export the configured embedding model's transformer to ONNX for fast query "
            "embedding (KNOWLEDGE_QUERY_ENCODER=auto|onnx). Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Export again even if the existing export is current.")

    def handle(self, *args, **options):
        model_dir = Path(settings.KNOWLEDGE_EMBEDDING_MODEL).expanduser()
        if not (model_dir / "modules.json").is_file():
            self.stdout.write(f"{model_dir} is not a local sentence-transformers directory; "
                              "queries will be embedded with torch.")
            return
        if not options["force"] and is_export_current(model_dir):
            self.stdout.write(f"ONNX query model is up to date: {export_dir_for(model_dir)}")
            return
        try:
            path = export_onnx(model_dir, force=options["force"],
                               progress=lambda message: self.stdout.write(f"  {message}"))
        except Exception as exc:
            raise CommandError(f"ONNX export of {model_dir} failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"ONNX query model ready: {path}"))
