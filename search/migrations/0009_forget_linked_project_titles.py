"""Passages name no page their readers may not see (privacy review of 2026-12-07).

A best practice's overview passage carried "Projekt: <title of the linked project>", and a page
left live below an unpublished project that project's title. Retrieval shows a passage by its
own page's permissions, so the title reached visitors who may not see the project (snippets,
matching explanations, full-text hits on the title's words). Indexing no longer writes that
paragraph (``search.indexing.page_chunks``); this migration takes it out of the stored
passages at once: the text and its compound parts (the generated ``tsvector`` follows), so
nothing can be found or shown by it any more. The pages are marked pending: the next
``rebuild_search_index --stale`` (or any re-index of them) embeds their overview again, the
stored vector being the only thing still computed from the old text, and a vector shows none.
"""

from django.db import migrations
from django.db.models import F

PARAGRAPH_SEPARATOR = "\n\n"


def _named_projects(apps) -> dict[int, str]:
    """Page id -> the project title its overview may no longer carry."""
    BestPracticePage = apps.get_model("knowledge", "BestPracticePage")
    ProjectPage = apps.get_model("knowledge", "ProjectPage")
    KnowledgePage = apps.get_model("knowledge", "KnowledgePage")
    named = {page_id: title for page_id, title in BestPracticePage.objects
             .filter(related_project__isnull=False)
             .values_list("pk", "related_project__title")}
    for project in ProjectPage.objects.filter(live=False).only("pk", "path", "title"):
        below = (KnowledgePage.objects.filter(path__startswith=project.path)
                 .exclude(pk=project.pk).values_list("pk", flat=True))
        named.update(dict.fromkeys(below, project.title))
    return named


def forget_titles(apps, schema_editor):
    from search.compounds import passage_parts

    Passage = apps.get_model("search", "Passage")
    PageIndexState = apps.get_model("search", "PageIndexState")
    IndexGeneration = apps.get_model("search", "IndexGeneration")
    named = _named_projects(apps)
    changed = []
    for passage in Passage.objects.filter(page_id__in=list(named), kind="overview"):
        paragraphs = passage.text.split(PARAGRAPH_SEPARATOR)
        kept = [p for p in paragraphs if p != f"Projekt: {named[passage.page_id]}"]
        if len(kept) == len(paragraphs):
            continue
        passage.text = PARAGRAPH_SEPARATOR.join(kept)
        for name, value in passage_parts(passage.kind, passage.heading, passage.text).items():
            setattr(passage, name, value)
        changed.append(passage)
    if not changed:
        return
    Passage.objects.bulk_update(changed, ["text", "title_parts", "compound_parts"])
    PageIndexState.objects.filter(page_id__in={p.page_id for p in changed}).update(
        status="pending", error="project title removed by migration; overview to re-embed")
    if not IndexGeneration.objects.filter(pk=1).update(value=F("value") + 1):
        IndexGeneration.objects.create(pk=1, value=1)


class Migration(migrations.Migration):

    dependencies = [
        ("knowledge", "0004_page_cache_generation"),
        ("search", "0008_passages_inline"),
    ]

    operations = [migrations.RunPython(forget_titles, migrations.RunPython.noop)]
