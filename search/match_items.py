"""Candidate pages as matching items, and the municipalities behind them.

Shared by matching (``/lernen/``) and the "Kommunen mit ähnlichen Vorhaben" list of a
municipality profile (:mod:`search.related`): both turn ranked page ids into items with their
project and contact, and both rank municipalities by how well their material matched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from attachments.refs import AttachmentRef
from knowledge.access import viewable_pages
from knowledge.types import TYPE_LABELS
from search.page_facts import facts_for, pinned
from search.params import setting
from search.results import PageHit, page_urls


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


@dataclass(frozen=True)
class ItemLinks:
    """What a shown item still needs: its URL path and its project's, if the user may see it."""

    url_path: str
    project_title: str = ""
    project_url_path: str = ""


def load_items(top, topics, user) -> tuple[list[MatchItem], dict[int, ItemLinks]]:
    """The candidate pages as items, from the pages' remembered facts.

    Thirty Wagtail page objects with their topics cost more than the ranking's SQL, and a
    statement of their columns, projects and contacts (2.6 ms of a matching at 100k passages,
    docs/speed-history.md, fifteenth round) made matching slower than a search with the same
    text, whose hits come from the remembered facts (:mod:`search.page_facts`). The one thing
    the facts cannot say is whether the user may see a page's project (a best practice may
    name a restricted one): PostgreSQL answers that for the projects that are not candidates
    themselves. URLs are computed later, only for what is shown (:func:`complete_shown`).
    """
    if not top:
        return [], {}
    with pinned():  # one view of the facts (nested in matching's own block)
        facts = facts_for(page_id for page_id, _s, _p in top)
        project_facts = facts_for({page.project_id for page in facts.values()
                                   if page.project_id is not None})
    visible_projects = _visible(set(project_facts) - set(facts), user) | set(facts)
    wanted = {t.pk for t in topics}
    topic_bonus = float(setting("KNOWLEDGE_MATCH_TOPIC_BONUS", 0.05))
    items, links = [], {}
    for page_id, score, _passage in top:
        page = facts.get(page_id)
        if page is None:  # deleted since the ranking
            continue
        shared = [topic.name for topic in page.topics if topic.id in wanted]
        items.append(MatchItem(
            page_id=page_id,
            title=page.title,
            url="",
            knowledge_type=page.knowledge_type,
            type_label=str(TYPE_LABELS[page.knowledge_type]),
            municipality=page.municipality,
            municipality_slug=page.municipality_slug,
            external_id=page.external_id,
            date=page.date,
            score=score + topic_bonus * min(len(shared), 2),
            topics=[topic.name for topic in page.topics],
            shared_topics=shared,
            explanations=[],
            contact_role=page.contact_role,
            contact_email=page.contact_email,
            project_id=page.project_id,
            project_title="",
            project_url="",
        ))
        project = project_facts.get(page.project_id)
        links[page_id] = (ItemLinks(page.url_path, project.title, project.url_path)
                          if project is not None and page.project_id in visible_projects
                          else ItemLinks(page.url_path))
    items.sort(key=lambda item: -item.score)
    return items, links


def _visible(page_ids: set[int], user) -> set[int]:
    """The pages among ``page_ids`` the user may see (:func:`knowledge.access.viewable_pages`)."""
    if not page_ids:
        return set()
    return set(viewable_pages(user).filter(pk__in=page_ids).values_list("pk", flat=True))


def complete_shown(shown: list[MatchItem], links: dict[int, ItemLinks], request) -> None:
    """URLs of the shown items and the title and URL of their project (if the user may see
    it, and unless the item is the project)."""
    url = page_urls(request)
    for item in shown:
        link = links[item.page_id]
        item.url = url(item.page_id, link.url_path)
        if link.project_title and item.project_id != item.page_id:
            item.project_title = link.project_title
            item.project_url = url(item.project_id, link.project_url_path)


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
    similar, url = [], page_urls(request)
    for score, slug, group in ranked:
        projects: dict[int, tuple[str, str]] = {}
        for item in group:
            link = links[item.page_id]
            if link.project_title and item.project_id not in projects and len(projects) < 3:
                projects[item.project_id] = (link.project_title,
                                             url(item.project_id, link.project_url_path))
        similar.append(SimilarMunicipality(name=group[0].municipality, slug=slug, score=score,
                                           projects=list(projects.values()),
                                           matches=len(group)))
    return similar
