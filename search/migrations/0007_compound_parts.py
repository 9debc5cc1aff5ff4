"""German compound parts in full text (issue 17, see search.compounds).

Two text columns hold the parts of the compounds of each passage (title and the rest), and the
generated ``search_vector`` takes them in with the weight of the words they come from. Existing
passages get their parts here, from their stored text, so an existing database needs no
re-embedding; ``rebuild_search_index`` recomputes them like every other passage field.
PostgreSQL cannot change the expression of a generated column, so the column and its GIN index
are dropped and added again (as in 0004).
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

BATCH = 500


def fill_parts(apps, schema_editor):
    from tqdm import tqdm

    from search.compounds import passage_parts

    Passage = apps.get_model("search", "Passage")
    rows = Passage.objects.only("id", "kind", "heading", "text").order_by("id")
    total = rows.count()
    batch = []
    with tqdm(total=total, desc="Compound parts", unit="passage", disable=not total) as bar:
        for passage in rows.iterator(chunk_size=BATCH):
            for name, value in passage_parts(passage.kind, passage.heading,
                                             passage.text).items():
                setattr(passage, name, value)
            batch.append(passage)
            if len(batch) == BATCH:
                Passage.objects.bulk_update(batch, ["title_parts", "compound_parts"])
                bar.update(len(batch))
                batch = []
        if batch:
            Passage.objects.bulk_update(batch, ["title_parts", "compound_parts"])
            bar.update(len(batch))


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0006_roadmap_passage_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="passage", name="title_parts",
            field=models.TextField(blank=True, default="", db_default=""),
        ),
        migrations.AddField(
            model_name="passage", name="compound_parts",
            field=models.TextField(blank=True, default="", db_default=""),
        ),
        migrations.RunPython(fill_parts, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="passage", name="passage_search_vector_gin"),
        migrations.RemoveField(model_name="passage", name="search_vector"),
        migrations.AddField(
            model_name="passage",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.SearchVector(
                        models.Case(models.When(kind="overview", then="heading"),
                                    default=models.Value("")),
                        "title_parts", config="german", weight="A",
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        models.Case(models.When(kind="overview", then=models.Value("")),
                                    default="heading"),
                        "text", "compound_parts", config="german", weight="B",
                    ),
                    django.contrib.postgres.search.SearchConfig("german"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="passage",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="passage_search_vector_gin"),
        ),
    ]
