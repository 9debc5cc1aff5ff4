"""The demo content: enough realistic material for every later feature, loaded idempotently."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from knowledge.models import (
    BestPracticePage,
    KnowledgePage,
    LessonLearnedPage,
    Municipality,
    ProjectPage,
    RoadmapPage,
    SessionProtocolPage,
    Topic,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_content_loads_once_and_is_rich_enough():
    call_command("load_demo_content", stdout=StringIO(), verbosity=0)
    count = KnowledgePage.objects.count()
    assert Municipality.objects.count() >= 30
    strategy = ProjectPage.objects.annotate(
        n=Count("pk", filter=None)
    ).filter(pk__in=[p.pk for p in ProjectPage.objects.all()
                     if p.get_children().type(SessionProtocolPage).count() >= 5])
    assert strategy.count() >= 8
    assert LessonLearnedPage.objects.count() >= 20
    assert BestPracticePage.objects.count() >= 20
    assert Topic.objects.filter(pages__isnull=False).distinct().count() >= 12
    assert KnowledgePage.objects.values("municipality").distinct().count() >= 20
    assert all(page.live for page in KnowledgePage.objects.all())
    # Roadmaps of several municipalities, seven years in half-year steps, for /zeitstrahl/.
    roadmaps = RoadmapPage.objects.all()
    assert roadmaps.values("municipality").distinct().count() >= 4
    assert all(len(r.timeline()) >= 13 for r in roadmaps)
    assert {m.status for r in roadmaps for s in r.timeline() for m in s.measures} == {
        "geplant", "laufend", "erledigt"}
    assert Municipality.objects.exclude(contact_email="").count() >= 8

    out = StringIO()
    call_command("load_demo_content", stdout=out, verbosity=0)
    assert "already loaded" in out.getvalue()
    call_command("load_demo_content", "--update", stdout=out, verbosity=0)
    assert f"0 created, 0 updated, {count} unchanged" in out.getvalue()
    assert KnowledgePage.objects.count() == count
