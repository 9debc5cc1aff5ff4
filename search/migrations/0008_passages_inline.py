"""Keep passage rows whole: no TOAST for rows up to 8160 bytes.

A passage row is about 2.6 kB: the 384-dimensional vector (1.5 kB), the tsvector, the text.
Above 2 kB PostgreSQL moves the largest values to the TOAST table, so every exact similarity
read a vector through the TOAST index, and the BM25 expression, which names the tsvector once
per query term, fetched a moved tsvector again for every mention. Measured at 100,000
passages (docs/speed-history.md, ninth round): full-text candidates −17 %, exact scores
−34 %, HNSW candidates −14 %. Applies to rows written from now on; ``VACUUM FULL
search_passage`` rewrites existing ones (README, "Operations").
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("search", "0007_compound_parts")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE search_passage SET (toast_tuple_target = 8160)",
            "ALTER TABLE search_passage RESET (toast_tuple_target)",
        ),
    ]
