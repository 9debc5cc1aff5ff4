from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector must exist before any vector column; the embedded server ships it."""

    initial = True
    dependencies = []
    operations = [VectorExtension()]
