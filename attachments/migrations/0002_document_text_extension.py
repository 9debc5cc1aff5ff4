"""Extraction results remember the file's extension; pages with files are read again.

A result was cached by content alone, so a PDF first uploaded as "bericht.docx" (refused:
wrong extension) stayed refused after the editor renamed it as advised. The readers changed at
the same time (extractor version 2: text in Word content controls and grouped PowerPoint
shapes, slide titles no longer repeated in the body). Existing results have no extension and
an older version, so they are read again; this migration marks every page that uses a file as
pending, and the next ``rebuild_search_index --stale`` re-reads and re-indexes them.
"""

from django.db import migrations, models


def mark_pages_with_files_pending(apps, schema_editor):
    PageDocument = apps.get_model("attachments", "PageDocument")
    PageIndexState = apps.get_model("search", "PageIndexState")
    page_ids = set(PageDocument.objects.values_list("page_id", flat=True))
    PageIndexState.objects.filter(page_id__in=page_ids).update(
        status="pending", error="attachment readers changed; files to read again")


class Migration(migrations.Migration):

    dependencies = [
        ("attachments", "0001_initial"),
        ("search", "0009_forget_linked_project_titles"),
    ]

    operations = [
        migrations.AddField(
            model_name="documenttext",
            name="extension",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.RunPython(mark_pages_with_files_pending, migrations.RunPython.noop),
    ]
