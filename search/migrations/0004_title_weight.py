"""The page title gets tsvector weight A (see Passage.search_vector).

PostgreSQL cannot change the expression of a generated column, so the column and its GIN
index are dropped and added again; the new column is computed from the stored passages.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0003_index_generation"),
    ]

    operations = [
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
                        config="german", weight="A",
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        models.Case(models.When(kind="overview", then=models.Value("")),
                                    default="heading"),
                        "text", config="german", weight="B",
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
