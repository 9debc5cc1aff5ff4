"""Mutual learning: "we are about to start X, what did the others learn?" and related material.

Matching a new project is the hybrid search pipeline run with the project description,
excluding the asking municipality, and then shaped for the question behind it:

* results are grouped by kind (Lessons Learned, Best Practices, Projekte & Sitzungsprotokolle);
* pages of one project are folded together so that a project with five protocols does not
  flood the list (protocols appear under their project, lessons are capped per project);
* each result explains itself with the one to three passages that matched best;
* the municipalities whose material matched most are listed with their projects, so the user
  knows whom to call.

Related material on a page ("Das haben andere Kommunen dazu gelernt") needs no model call: it
starts from the page's stored passage embeddings. It is cached per page, per visibility class
of the viewer and per index generation (bumped whenever passages change), so a publish,
unpublish or privacy change is visible at once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from attachments.refs import AttachmentRef
from knowledge.access import remembered_access, viewable_pages, visibility_key
from knowledge.text import clean_query_value
from knowledge.types import TYPE_LABELS, knowledge_type_of
from search import ranking

logger = logging.getLogger(__name__)

GROUPS = (
    ("lessons_learned", _("Lessons Learned"), ("lesson_learned",)),
    ("best_practices", _("Best Practices"), ("best_practice",)),
    ("projects", _("Projekte & Sitzungsprotokolle"), ("project", "session_protocol", "roadmap")),
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_description_length() -> int:
    return int(_setting("KNOWLEDGE_MATCH_MAX_DESCRIPTION", 5000))


class MatchError(ValueError):
    """Invalid matching input; ``str(error)`` is a German message for the user."""


# --- Result objects -------------------------------------------------------------------------


@dataclass
class Explanation:
    heading: str
    snippet: str  # HTML: escaped text, <mark> around matching words
    attachment: AttachmentRef | None = None  # the file the passage was read from


@dataclass
class MatchItem(ranking.PageHit):
    shared_topics: list[str]
    explanations: list[Explanation]
    contact_role: str = ""
    contact_email: str = ""
    project_id: int | None = None
    project_title: str = ""
    project_url: str = ""
    members: list[MatchItem] = field(default_factory=list)  # protocols folded into a project

    def as_dict(self) -> dict:
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
class MatchGroup:
    key: str
    label: str
    items: list[MatchItem]


@dataclass
class SimilarMunicipality:
    name: str
    slug: str
    score: float
    projects: list[tuple[str, str]]  # (title, url)
    matches: int


@dataclass
class MatchResults:
    description: str
    groups: list[MatchGroup]
    municipalities: list[SimilarMunicipality]
    degraded: bool
    notice: str

    @property
    def results(self) -> list[MatchItem]:
        items = [item for group in self.groups for item in group.items]
        return sorted(items, key=lambda item: -item.score)


# --- Input ----------------------------------------------------------------------------------


def clean_description(text) -> str:
    """Validate the free-text description (German messages on error)."""
    if text is None or not isinstance(text, str):
        raise MatchError(_("Bitte beschreiben Sie Ihr Vorhaben."))
    cleaned = clean_query_value(text, max_length=max_description_length() + 1)
    if not cleaned:
        raise MatchError(_("Bitte beschreiben Sie Ihr Vorhaben."))
    if len(cleaned) > max_description_length():
        raise MatchError(_(
            "Die Beschreibung ist zu lang (höchstens %(max)d Zeichen). Bitte kürzen Sie sie auf "
            "das Wesentliche."
        ) % {"max": max_description_length()})
    return cleaned


def _windows(text: str, embedder) -> list[str]:
    """Split a long description into windows the model reads without truncation."""
    budget = max(32, embedder.max_tokens - 8)
    if _surely_fits(text, embedder, budget) or embedder.count_tokens(text) <= budget:
        return [text]
    windows, current = [], ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{current} {sentence}".strip()
        if current and embedder.count_tokens(candidate) > budget:
            windows.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        windows.append(current)
    return windows


def _surely_fits(text: str, embedder, budget: int) -> bool:
    """True if the text fits the model's window without counting its tokens.

    Subword tokenizers (WordPiece, SentencePiece, byte-level BPE) give every token at least one
    byte of the normalised text, so fewer bytes than the budget, with room for the prompt and
    the special tokens, always fit; most descriptions are that short, and counting costs a
    tokenizer pass.
    """
    size = len(unicodedata.normalize("NFKC", embedder.passage_prompt + text).encode())
    return size + 4 <= budget


class _DescriptionEmbedder:
    """Presents a long description's averaged window vectors as ``embed_query``.

    ``ranking.rank_pages`` embeds its query with the embedder it is given; wrapping lets a
    description longer than the model's window count in full (the windows are averaged and
    re-normalised, as the reference e5 engine does).
    """

    def __init__(self, embedder, text: str):
        self.model_id = embedder.model_id
        windows = _windows(text, embedder)
        vectors = np.stack([embedder.embed_query(w) for w in windows])
        mean = vectors.mean(axis=0)
        self.vector = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)

    def embed_query(self, _text: str):
        return self.vector


# --- Matching -------------------------------------------------------------------------------


def match_project(description: str, *, user, municipality=None, topics=(), limit: int = 5,
                  request=None) -> MatchResults:
    """What other municipalities learned that helps with the described project.

    ``municipality`` (a Municipality or None) is the asking one: its own material is excluded.
    ``topics`` (Topic objects) gently boost pages that share them; they never hide anything.
    """
    description = clean_description(description)
    limit = max(1, min(int(limit), 20))
    with remembered_access(user):
        return _match(description, user=user, municipality=municipality, topics=topics,
                      limit=limit, request=request)


def _match(description: str, *, user, municipality, topics, limit: int,
           request) -> MatchResults:
    # The search's tuned retrieval, as deep as the search's (KNOWLEDGE_MATCH_CANDIDATES): 60
    # or 40 candidates per retriever lost quality (MDK 0.417 instead of 0.418, project
    # descriptions 0.757 / 0.745 instead of 0.764), 200 changed as many Musterdatenkatalog
    # rankings for the worse as for the better. Full text nominates from half the search's
    # budget (KNOWLEDGE_MATCH_FULLTEXT_BUDGET): matching shows its best 30 pages, not pages
    # of results with facet counts, and a long description's rarest words fill the budget
    # fast; measured: same nDCG@10 on MDK (0.418) and on the project descriptions (0.764).
    params = ranking.FusionParams.from_settings(
        candidates=int(_setting("KNOWLEDGE_MATCH_CANDIDATES", 100)),
        fulltext_budget=int(_setting("KNOWLEDGE_MATCH_FULLTEXT_BUDGET", 10)))
    filters = ranking.SearchFilters(
        exclude_municipality_ids=(municipality.pk,) if municipality is not None else ()
    )
    embedder, notice = ranking._current_embedder()
    wrapped = None
    if embedder is not None:
        from search.embedding import EmbeddingUnavailable

        try:
            wrapped = _DescriptionEmbedder(embedder, description)
        except EmbeddingUnavailable as exc:
            logger.warning("Description embedding failed: %s", exc)
            notice = _("Die semantische Suche ist gerade nicht verfügbar; es werden nur "
                       "Treffer der Volltextsuche angezeigt.")
    mode = "hybrid" if wrapped is not None else "fulltext"
    ranked = ranking.rank_pages(
        description, user=user, mode=mode, filters=filters, params=params, embedder=wrapped
    )
    notice = ranked.notice or notice
    # Enough pages to fill every group after folding and the per-project caps; loading them
    # is most of what matching adds to a search.
    depth = max(int(_setting("KNOWLEDGE_MATCH_PAGE_DEPTH", 30)), 3 * limit)
    items, links = _load_items(ranked.pages[:depth], topics, user)
    groups = _group(items, limit)
    # Explanations only for what is shown, from the passage scores the ranking computed.
    shown = [member for group in groups for entry in group.items
             for member in (entry, *entry.members)]
    explanations = _explanations({item.page_id for item in shown}, ranked, description, params)
    for item in shown:
        item.explanations = explanations.get(item.page_id, [])
    _complete_shown(shown, links, request)
    return MatchResults(
        description=description,
        groups=groups,
        municipalities=_similar_municipalities(_rank_municipalities(items), links, request),
        degraded=ranked.mode != "hybrid",
        notice=notice,
    )


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
class _Links:
    """What a shown item still needs: its URL path and its project's, if the user may see it."""

    url_path: str
    project_title: str = ""
    project_url_path: str = ""


def _load_items(top, topics, user) -> tuple[list[MatchItem], dict[int, _Links]]:
    """The candidate pages as items, in one query of plain values.

    Thirty Wagtail page objects with their topics cost more than the ranking's SQL, and
    separate queries for topics, projects and URLs still cost more than the search's own
    result loading; the items need only a few columns, and their type comes from the content
    type. URLs are computed later, only for what is shown (:func:`_complete_shown`).
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from knowledge.models import ProjectPage

    if not top:
        return [], {}
    visible, visible_params = ranking.visibility_sql(user, "pj", "%(denied)s")
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
    topic_bonus = float(_setting("KNOWLEDGE_MATCH_TOPIC_BONUS", 0.05))
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
        links[page_id] = (_Links(url_path, project_title, project_url_path) if project_visible
                          else _Links(url_path))
    items.sort(key=lambda item: -item.score)
    return items, links


def _complete_shown(shown: list[MatchItem], links: dict[int, _Links], request) -> None:
    """URLs of the shown items and the title and URL of their project (if the user may see
    it, and unless the item is the project)."""
    for item in shown:
        link = links[item.page_id]
        item.url = ranking.page_url(item.page_id, link.url_path, request)
        if link.project_title and item.project_id != item.page_id:
            item.project_title = link.project_title
            item.project_url = ranking.page_url(item.project_id, link.project_url_path, request)


def _explanations(page_ids: set[int], ranked: ranking.Ranking, description: str,
                  params: ranking.FusionParams) -> dict[int, list]:
    """The one to three best passages of each page: why it was suggested.

    Every suggested page came from the candidate passages of the ranking, whose fused scores
    are known: only the highlighting costs a query. Passages within 75 % of the page's best
    (and above zero) are kept.
    """
    per_page: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for passage_id, score in ranked.passage_scores.items():
        page_id = ranked.passage_pages[passage_id]
        if page_id in page_ids:
            per_page[page_id].append((score, passage_id))
    chosen: dict[int, list[int]] = {}
    for page_id, scored in per_page.items():
        scored.sort(key=lambda item: (-item[0], item[1]))
        best = scored[0][0]
        chosen[page_id] = [pk for score, pk in scored[:3]
                           if score >= 0.75 * best and score > 0] or [scored[0][1]]
    snippets = ranking._headlines([pk for keep in chosen.values() for pk in keep],
                                  description, params)
    return {
        page_id: [Explanation(*snippets.get(pk, ("", "", None))) for pk in keep]
        for page_id, keep in chosen.items()
    }


def _group(items: list[MatchItem], limit: int) -> list[MatchGroup]:
    """Group by kind; fold protocols into their project; cap lessons per project."""
    per_project_cap = int(_setting("KNOWLEDGE_MATCH_PER_PROJECT", 2))
    groups = []
    for key, label, kinds in GROUPS:
        chosen: list[MatchItem] = []
        if key == "projects":
            by_project: dict[int, MatchItem] = {}
            for item in items:
                if item.knowledge_type not in kinds:
                    continue
                project_key = item.project_id or item.page_id
                entry = by_project.get(project_key)
                if entry is None:
                    # The best page of a project stands for it; that may be a protocol (the
                    # project page itself may rank lower or not at all), named with its project.
                    by_project[project_key] = item
                    chosen.append(item)
                elif len(entry.members) < 3:
                    entry.members.append(item)
        else:
            used_per_project: dict[int, int] = defaultdict(int)
            for item in items:
                if item.knowledge_type not in kinds:
                    continue
                if item.project_id is not None:
                    if used_per_project[item.project_id] >= per_project_cap:
                        continue
                    used_per_project[item.project_id] += 1
                chosen.append(item)
        groups.append(MatchGroup(key, str(label), chosen[:limit]))
    return groups


def _rank_municipalities(items: list[MatchItem]) -> list[tuple[float, str, list]]:
    """(score, slug, items) of the municipalities whose material matched most."""
    by_municipality: dict[str, list[MatchItem]] = defaultdict(list)
    for item in items:
        by_municipality[item.municipality_slug].append(item)
    ranked = [(sum(sorted((i.score for i in group), reverse=True)[:3]), slug, group)
              for slug, group in by_municipality.items()]
    ranked.sort(key=lambda entry: (-entry[0], entry[1]))
    return ranked[:int(_setting("KNOWLEDGE_MATCH_MUNICIPALITIES", 5))]


def _similar_municipalities(ranked, links: dict[int, _Links],
                            request) -> list[SimilarMunicipality]:
    """"Kommunen mit ähnlichen Vorhaben" with their matching projects the user may see."""
    similar = []
    for score, slug, group in ranked:
        projects: dict[int, tuple[str, str]] = {}
        for item in group:
            link = links[item.page_id]
            if link.project_title and item.project_id not in projects and len(projects) < 3:
                projects[item.project_id] = (link.project_title, ranking.page_url(
                    item.project_id, link.project_url_path, request))
        similar.append(SimilarMunicipality(name=group[0].municipality, slug=slug, score=score,
                                           projects=list(projects.values()),
                                           matches=len(group)))
    return similar


# --- Related material -----------------------------------------------------------------------


@dataclass
class RelatedItem:
    page_id: int
    title: str
    url: str
    type_label: str
    municipality: str
    date: object
    score: float
    heading: str


def _index_generation() -> int:
    from search.models import IndexGeneration

    return IndexGeneration.current()


def related_pages(page, *, user, limit: int | None = None, request=None) -> list[RelatedItem]:
    """The most similar pages of other municipalities, from stored embeddings (cached)."""
    limit = limit or int(_setting("KNOWLEDGE_RELATED_COUNT", 5))
    key = (f"related:{page.pk}:{limit}:{_index_generation()}:{visibility_key(user)}:"
           f"{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_related(page, user=user, limit=limit)
        cache.set(key, cached, int(_setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    return _load_related(cached, user, request)


def project_matches(project, *, user, limit: int | None = None, request=None
                    ) -> list[RelatedItem]:
    """Material of other municipalities matching a project as a whole (goals and summary)."""
    limit = limit or int(_setting("KNOWLEDGE_RELATED_COUNT", 5))
    key = (f"project-matches:{project.pk}:{limit}:{_index_generation()}:"
           f"{visibility_key(user)}:{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_related(project, user=user, limit=limit, overview_only=True)
        cache.set(key, cached, int(_setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    return _load_related(cached, user, request)


def _current_model_id() -> str:
    from search.embedding import configured_model_id

    return configured_model_id()


def _project_root_path(page) -> str | None:
    """The subtree of the page's own project (a best practice's linked project), if any."""
    project = page.get_project()
    return project.path if project is not None else None


def _compute_related(page, *, user, limit: int, overview_only: bool = False
                     ) -> list[tuple[int, float, int]]:
    """(page id, score, best passage id) of related pages, at most ``limit``, best first."""
    from search.models import Passage

    source = Passage.objects.filter(page_id=page.pk)
    if overview_only:
        source = source.filter(kind=Passage.Kind.OVERVIEW)
    exclusions = ["p.page_id <> %s"]
    exclusion_params: list = [page.pk]
    project_path = _project_root_path(page)
    if project_path:
        exclusions.append("NOT (wp.path LIKE %s)")
        exclusion_params.append(project_path + "%")
    return _nearest_pages(source, user=user, limit=limit,
                          exclude_municipality_id=page.municipality_id,
                          exclusions=exclusions, exclusion_params=exclusion_params)


def _nearest_pages(source, *, user, limit: int, exclude_municipality_id: int,
                   exclusions=(), exclusion_params=()) -> list[tuple[int, float, int]]:
    """Pages of other municipalities nearest to the centroid of the ``source`` passages.

    Only stored vectors of the current model are used (no model call); the candidates pass
    the same permission filter as every search.
    """
    model_id = _current_model_id()
    source = source.filter(model_id=model_id).exclude(embedding=None)
    vectors = [np.asarray(v, dtype=np.float32) for v in source.values_list("embedding",
                                                                           flat=True)]
    if not vectors:
        return []
    centroid = np.mean(np.stack(vectors), axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    literal = ranking.vector_literal(centroid)

    where, params = ranking._filter_sql(user, ranking.SearchFilters(
        exclude_municipality_ids=(exclude_municipality_id,)))
    where = " AND ".join([where, *exclusions])
    params = [*params, *exclusion_params]
    depth = max(limit * 20, 100)

    hnsw_sql = f"""
        WITH c AS MATERIALIZED (
            SELECT p.id, p.page_id, p.embedding <=> %s::vector AS distance
            FROM search_passage p JOIN wagtailcore_page wp ON wp.id = p.page_id
            WHERE p.model_id = %s AND p.embedding IS NOT NULL AND {where}
            ORDER BY p.embedding <=> %s::vector
            LIMIT %s
        )
        SELECT DISTINCT ON (page_id) page_id, 1 - distance, id
        FROM c ORDER BY page_id, distance, id
    """  # noqa: S608 - fixed SQL fragments only; values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(depth)])
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        cursor.execute(hnsw_sql, [literal, model_id, *params, literal, depth])
        rows = cursor.fetchall()
    if len(rows) < limit:
        # Few distinct pages among the nearest passages (long pages crowd the candidates):
        # rank every permitted page exactly so the list is always filled when material exists.
        exact_sql = f"""
            SELECT DISTINCT ON (p.page_id) p.page_id, 1 - (p.embedding <=> %s::vector), p.id
            FROM search_passage p JOIN wagtailcore_page wp ON wp.id = p.page_id
            WHERE p.model_id = %s AND p.embedding IS NOT NULL AND {where}
            ORDER BY p.page_id, p.embedding <=> %s::vector, p.id
        """  # noqa: S608 - fixed SQL fragments only; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(exact_sql, [literal, model_id, *params, literal])
            rows = cursor.fetchall()
    ranked = sorted(((r[0], float(r[1]), r[2]) for r in rows), key=lambda r: (-r[1], r[0]))
    return ranked[:limit]


def _load_related(ranked, user, request) -> list[RelatedItem]:
    """Load cached ids, re-checking visibility: a cache entry can never leak a page that was
    moved under a restriction or unpublished after it was computed."""
    from knowledge.models import KnowledgePage
    from search.models import Passage

    if not ranked:
        return []
    pages = {p.pk: p for p in viewable_pages(user, KnowledgePage)
             .filter(pk__in=[r[0] for r in ranked]).select_related("municipality")}
    headings = dict(Passage.objects.filter(pk__in=[r[2] for r in ranked])
                    .values_list("pk", "heading"))
    items = []
    for page_id, score, passage_id in ranked:
        page = pages.get(page_id)
        if page is None:
            continue
        knowledge_type = page.specific_class.knowledge_type
        items.append(RelatedItem(
            page_id=page_id, title=page.title, url=page.get_url(request=request) or "",
            type_label=str(TYPE_LABELS[knowledge_type]), municipality=page.municipality.name,
            date=page.date, score=score, heading=headings.get(passage_id, ""),
        ))
    return items


# --- Similar municipalities (profile page) --------------------------------------------------


def similar_municipalities(municipality, *, user, request=None) -> list[SimilarMunicipality]:
    """"Kommunen mit ähnlichen Vorhaben" on a municipality's profile, from stored vectors.

    The query vector is the centroid of the overview passages of the municipality's pages the
    viewer may see (a restricted page must not shape what a visitor is shown); the nearest
    pages of other municipalities are then ranked per municipality exactly as on the matching
    page. Cached like related material, per visibility class and index generation.
    """
    key = (f"similar-municipalities:{municipality.pk}:{_index_generation()}:"
           f"{visibility_key(user)}:{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_similar_municipalities(municipality, user)
        cache.set(key, cached, int(_setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    from knowledge.models import KnowledgePage

    with remembered_access(user):
        visible = set(viewable_pages(user, KnowledgePage)
                      .filter(pk__in=[r[0] for r in cached]).values_list("pk", flat=True))
        items, links = _load_items([r for r in cached if r[0] in visible], (), user)
    return _similar_municipalities(_rank_municipalities(items), links, request)


def _compute_similar_municipalities(municipality, user) -> list[tuple[int, float, int]]:
    from knowledge.models import KnowledgePage
    from search.models import Passage

    with remembered_access(user):
        own = viewable_pages(user, KnowledgePage).filter(municipality=municipality)
        source = Passage.objects.filter(kind=Passage.Kind.OVERVIEW, page__in=own)
        return _nearest_pages(source, user=user,
                              limit=int(_setting("KNOWLEDGE_SIMILAR_MUNICIPALITY_PAGES", 40)),
                              exclude_municipality_id=municipality.pk)
