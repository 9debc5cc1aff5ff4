"""Candidate pages as matching items, and the municipalities behind them.

Shared by matching (``/lernen/``) and the "Kommunen mit ähnlichen Vorhaben" list of a
municipality profile (:mod:`search.related`): both turn ranked page ids into items with their
project and contact, and both rank municipalities by how well their material matched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from attachments.refs import AttachmentRef
from knowledge.types import TYPE_LABELS, knowledge_type_of
from search.access_sql import visibility_sql
from search.params import setting
from search.results import PageHit, page_url


@dataclass
class Explanation:
    """Why a page was suggested: one of its best passages, highlighted."""

    heading: str
    snippet: str  # HTML: escaped text, <mark> around matching words
    attachment: AttachmentRef | None = None  # the file the passage was read from


@dataclass
class MatchItem(PageHit):
    """A suggested page with its explanations, shared topics, contact and project."""

    shared_topics: list[str]
    explanations: list[Explanation]
    contact_role: str = ""
    contact_email: str = ""
    project_id: int | None = None
    project_title: str = ""
    project_url: str = ""
    members: list[MatchItem] = field(default_factory=list)  # protocols folded into a project
    rank: int = 0  # place in the flat list across the groups (MatchResults.results), from 1

    @property
    def anchor(self) -> str:
        """The card's fragment on /lernen/: a vote sent without JavaScript returns to it."""
        return f"vorschlag-{self.rank}"

    @property
    def listed_members(self) -> list[MatchItem]:
        """The folded pages to list under the card: the project page is already linked in
        the card's line "Projekt …" (it stays a member: it is shown, and counts as shown)."""
        return [m for m in self.members if m.page_id != self.project_id]

    def as_dict(self) -> dict:
        """The API's match result object, with the folded protocols as ``related``."""
        return {
            **self.page_dict(),
            "snippet": self.explanations[0].snippet if self.explanations else "",
            "shared_topics": self.shared_topics,
            "explanations": [{"heading": e.heading, "snippet": e.snippet,
                              "attachment": e.attachment.as_dict() if e.attachment else None}
                             for e in self.explanations],
            "contact_role": self.contact_role,
            "project": ({"title": self.project_title, "url": self.project_url}
                        if self.project_title else None),
            "related": [m.as_dict() for m in self.members],
        }


@dataclass
class SimilarMunicipality:
    """A municipality whose material matched, with its matching projects (whom to call)."""

    name: str
    slug: str
    score: float
    projects: list[tuple[str, str]]  # (title, url)
    matches: int


# The candidates' columns in one statement: the knowledge page with its municipality, the
# best-practice columns (left join), the topics sorted by name, and the page's project by the
# rules of each kind's ``get_project`` (a project is its own, a best practice names one,
# protocols and lessons belong to the project page they are filed under) with its title, URL
# path and whether the user may see it: a best practice may name a project the user may not.
_ITEMS_SQL = """
    SELECT wp.id, wp.title, wp.content_type_id, wp.url_path, kp.external_id, kp.date, m.name,
           m.slug, bp.contact_role, bp.contact_email,
           ARRAY(SELECT ARRAY[t.id::text, t.name] FROM knowledge_knowledgepage_topics kt
                 JOIN knowledge_topic t ON t.id = kt.topic_id
                 WHERE kt.knowledgepage_id = wp.id ORDER BY t.name),
           pj.id, pj.title, pj.url_path, COALESCE({project_visible}, false)
    FROM wagtailcore_page wp
    JOIN knowledge_knowledgepage kp ON kp.page_ptr_id = wp.id
    JOIN knowledge_municipality m ON m.id = kp.municipality_id
    LEFT JOIN knowledge_bestpracticepage bp ON bp.knowledgepage_ptr_id = wp.id
    LEFT JOIN wagtailcore_page parent
           ON parent.path = left(wp.path, -%(steplen)s) AND parent.content_type_id = %(project)s
    LEFT JOIN wagtailcore_page pj ON pj.id = CASE
           WHEN wp.content_type_id = %(project)s THEN wp.id
           WHEN bp.knowledgepage_ptr_id IS NOT NULL THEN bp.related_project_id
           ELSE parent.id END
    WHERE wp.id = ANY(%(ids)s)
"""


@dataclass(frozen=True)
class ItemLinks:
    """What a shown item still needs: its URL path and its project's, if the user may see it."""

    url_path: str
    project_title: str = ""
    project_url_path: str = ""


def load_items(top, topics, user) -> tuple[list[MatchItem], dict[int, ItemLinks]]:
    """The candidate pages as items, in one query of plain values.

    Thirty Wagtail page objects with their topics cost more than the ranking's SQL, and
    separate queries for topics, projects and URLs still cost more than the search's own
    result loading; the items need only a few columns, and their type comes from the content
    type. URLs are computed later, only for what is shown (:func:`complete_shown`).
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from knowledge.models import ProjectPage

    if not top:
        return [], {}
    visible, visible_params = visibility_sql(user, "pj", "%(denied)s")
    sql = _ITEMS_SQL.replace("{project_visible}", visible)
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            "steplen": Page.steplen,
            "project": ContentType.objects.get_for_model(ProjectPage).pk,
            "ids": [page_id for page_id, _s, _p in top],
            "denied": visible_params[0] if visible_params else None,
        })
        rows = {row[0]: row for row in cursor.fetchall()}
    wanted = {t.pk for t in topics}
    topic_bonus = float(setting("KNOWLEDGE_MATCH_TOPIC_BONUS", 0.05))
    items, links = [], {}
    for page_id, score, _passage in top:
        if page_id not in rows:
            continue
        (_pk, title, content_type_id, url_path, external_id, date, municipality,
         municipality_slug, contact_role, contact_email, page_topics, project_id,
         project_title, project_url_path, project_visible) = rows[page_id]
        kind = knowledge_type_of(content_type_id)
        shared = [name for topic_id, name in page_topics if int(topic_id) in wanted]
        items.append(MatchItem(
            page_id=page_id,
            title=title,
            url="",
            knowledge_type=kind,
            type_label=str(TYPE_LABELS[kind]),
            municipality=municipality,
            municipality_slug=municipality_slug,
            external_id=external_id,
            date=date,
            score=score + topic_bonus * min(len(shared), 2),
            topics=[name for _id, name in page_topics],
            shared_topics=shared,
            explanations=[],
            contact_role=contact_role or "",
            contact_email=contact_email or "",
            project_id=project_id,
            project_title="",
            project_url="",
        ))
        links[page_id] = (ItemLinks(url_path, project_title, project_url_path) if project_visible
                          else ItemLinks(url_path))
    items.sort(key=lambda item: -item.score)
    return items, links


def complete_shown(shown: list[MatchItem], links: dict[int, ItemLinks], request) -> None:
    """URLs of the shown items and the title and URL of their project (if the user may see
    it, and unless the item is the project)."""
    for item in shown:
        link = links[item.page_id]
        item.url = page_url(item.page_id, link.url_path, request)
        if link.project_title and item.project_id != item.page_id:
            item.project_title = link.project_title
            item.project_url = page_url(item.project_id, link.project_url_path, request)


def rank_municipalities(items: list[MatchItem]) -> list[tuple[float, str, list]]:
    """(score, slug, items) of the municipalities whose material matched most."""
    by_municipality: dict[str, list[MatchItem]] = defaultdict(list)
    for item in items:
        by_municipality[item.municipality_slug].append(item)
    ranked = [(sum(sorted((i.score for i in group), reverse=True)[:3]), slug, group)
              for slug, group in by_municipality.items()]
    ranked.sort(key=lambda entry: (-entry[0], entry[1]))
    return ranked[:int(setting("KNOWLEDGE_MATCH_MUNICIPALITIES", 5))]


def list_similar_municipalities(ranked, links: dict[int, ItemLinks],
                                request) -> list[SimilarMunicipality]:
    """"Kommunen mit ähnlichen Vorhaben" with their matching projects the user may see."""
    similar = []
    for score, slug, group in ranked:
        projects: dict[int, tuple[str, str]] = {}
        for item in group:
            link = links[item.page_id]
            if link.project_title and item.project_id not in projects and len(projects) < 3:
                projects[item.project_id] = (link.project_title, page_url(
                    item.project_id, link.project_url_path, request))
        similar.append(SimilarMunicipality(name=group[0].municipality, slug=slug, score=score,
                                           projects=list(projects.values()),
                                           matches=len(group)))
    return similar
