"""Atom feeds of new material: everything public, per topic and per municipality.

Built on Django's syndication framework. Feeds are read by feed readers without a login, so
they only ever contain pages an anonymous visitor may view (``viewable_pages`` with an
anonymous user), whoever requests them. XML 1.0 has no place for control characters, which
the admin lets through in titles and summaries: every text goes through
``strip_control_characters``, or one such character would break every feed with the page.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from knowledge.access import viewable_pages
from knowledge.models import KnowledgePage, Municipality, Topic
from knowledge.text import strip_control_characters
from knowledge.types import TYPE_LABELS

FEED_LENGTH = 30


def public_pages():
    return (viewable_pages(AnonymousUser(), KnowledgePage).specific()
            .select_related("municipality").order_by("-first_published_at", "-pk"))


class AllMaterialFeed(Feed):
    feed_type = Atom1Feed
    title = "Kommunales Wissensnetz: neue Inhalte"
    subtitle = "Neue öffentliche Projekte, Sitzungsprotokolle, Lessons Learned und Best Practices."

    def link(self):
        return reverse("knowledge:browse")

    def items(self, obj=None):
        return self.filtered(public_pages(), obj)[:FEED_LENGTH]

    def filtered(self, pages, obj):
        return pages

    def item_title(self, item):
        return strip_control_characters(item.title)

    def item_description(self, item):
        label = TYPE_LABELS.get(item.knowledge_type, "")
        return strip_control_characters(f"{label} · {item.municipality.name}: {item.summary}")

    def item_link(self, item):
        return item.url

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_author_name(self, item):
        return strip_control_characters(item.municipality.name)

    def item_categories(self, item):
        return [strip_control_characters(topic.name) for topic in item.topics.all()]


class TopicFeed(AllMaterialFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Topic, slug=slug)

    def title(self, obj):
        return strip_control_characters(
            f"Kommunales Wissensnetz: neue Inhalte zum Thema {obj.name}")

    def link(self, obj):
        return obj.get_absolute_url()

    def filtered(self, pages, obj):
        return pages.filter(topics=obj)


class MunicipalityFeed(AllMaterialFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Municipality, slug=slug)

    def title(self, obj):
        return strip_control_characters(f"Kommunales Wissensnetz: neue Inhalte aus {obj.name}")

    def link(self, obj):
        return obj.get_absolute_url()

    def filtered(self, pages, obj):
        return pages.filter(municipality=obj)
