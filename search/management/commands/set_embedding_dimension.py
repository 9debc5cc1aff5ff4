"""``manage.py set_embedding_dimension N``: change the vector dimension of the passage index.

pgvector's HNSW index needs a fixed dimension, so the ``embedding`` column is ``vector(384)``
(the dimension of both bundled models). Switching to a model with another dimension means:
drop the HNSW index, change the column type (existing vectors cannot be converted and are
discarded), recreate the index from the model's definition, and mark every page pending. The
passages themselves (and so full-text search) stay; ``rebuild_search_index --stale`` then
embeds them with the new model. All of it runs in one transaction.

Set ``KNOWLEDGE_EMBEDDING_DIMENSIONS=N`` in the environment as well: the model field and the
embedder's sanity check read it. See docs/search-indexing.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from search.indexing import state
from search.models import Passage

HNSW_INDEX_NAME = "passage_embedding_hnsw"
MAX_HNSW_DIMENSIONS = 2000  # pgvector's limit for HNSW on the ``vector`` type


class Command(BaseCommand):
    help = (
        "Change the dimension of the embedding column (and rebuild its HNSW index) to switch "
        "to a model with another vector size. Discards all stored vectors."
    )

    def add_arguments(self, parser):
        parser.add_argument("dimensions", type=int)
        parser.add_argument("--force", action="store_true",
                            help="Recreate column and index even if the dimension is unchanged.")

    def handle(self, *args, dimensions, force, **options):
        if not 1 <= dimensions <= MAX_HNSW_DIMENSIONS:
            raise CommandError(
                f"The dimension must be between 1 and {MAX_HNSW_DIMENSIONS} (HNSW limit)."
            )
        current = state.column_dimensions()
        if current == dimensions and not force:
            self.stdout.write(f"The embedding column already has {dimensions} dimensions.")
            return
        set_embedding_dimension(dimensions)
        self.stdout.write(self.style.SUCCESS(
            f"The embedding column now has {dimensions} dimensions (was {current}); all pages "
            "are marked pending."
        ))
        if dimensions != settings.KNOWLEDGE_EMBEDDING_DIMENSIONS:
            self.stdout.write(self.style.WARNING(
                f"Set KNOWLEDGE_EMBEDDING_DIMENSIONS={dimensions} (currently "
                f"{settings.KNOWLEDGE_EMBEDDING_DIMENSIONS}) before indexing or searching."
            ))
        self.stdout.write("Then run: python manage.py rebuild_search_index --stale")


def set_embedding_dimension(dimensions: int) -> None:
    """Alter the column to ``vector(dimensions)`` and rebuild the HNSW index, atomically."""
    index = next(i for i in Passage._meta.indexes if i.name == HNSW_INDEX_NAME)
    table = connection.ops.quote_name(Passage._meta.db_table)
    with transaction.atomic(), connection.schema_editor() as editor:
        # Deferred foreign-key checks of earlier writes in this transaction block ALTER TABLE.
        editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        editor.remove_index(Passage, index)
        editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN embedding TYPE vector({int(dimensions)}) "
            f"USING NULL"
        )
        Passage.objects.update(model_id="")
        editor.add_index(Passage, index)
        editor.execute("SET CONSTRAINTS ALL DEFERRED")
    state.mark_pending(reason=f"embedding dimension changed to {dimensions}")
