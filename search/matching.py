"""Mutual learning: "we are about to start X, what did the others learn?".

Matching a new project is the hybrid search pipeline run with the project description,
excluding the asking municipality, and then shaped for the question behind it:

* results are grouped by kind (Lessons Learned, Best Practices, Projekte & Sitzungsprotokolle);
* pages of one project are folded together so that a project with five protocols does not
  flood the list (protocols appear under their project, lessons are capped per project);
* each result explains itself with the one to three passages that matched best;
* the municipalities whose material matched most are listed with their projects, so the user
  knows whom to call (:mod:`search.match_items`).

Related material on a page needs no model call and lives in :mod:`search.related`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from knowledge.access import remembered_access
from knowledge.text import clean_query_value, german_count
from search import page_facts
from search.match_items import (
    Explanation,
    MatchItem,
    SimilarMunicipality,
    complete_shown,
    list_similar_municipalities,
    load_items,
    rank_municipalities,
)
from search.models import IndexGeneration
from search.params import FusionParams, setting
from search.query import SearchFilters, query_tokens
from search.results import headlines
from search.retrieval import Ranking, rank_pages
from search.vector import current_embedder

GROUPS = (
    ("lessons_learned", _("Lessons Learned"), ("lesson_learned",)),
    ("best_practices", _("Best Practices"), ("best_practice",)),
    ("projects", _("Projekte & Sitzungsprotokolle"), ("project", "session_protocol", "roadmap")),
)
# Where a description may be split: after sentences and semicolons, and at line breaks (pasted
# bullet lists often have no full stops).
_PIECE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")

def max_description_length() -> int:
    """The longest accepted project description (``KNOWLEDGE_MATCH_MAX_DESCRIPTION``)."""
    return int(setting("KNOWLEDGE_MATCH_MAX_DESCRIPTION", 5000))


class MatchError(ValueError):
    """Invalid matching input; ``str(error)`` is a German message for the user."""


@dataclass
class MatchGroup:
    """One group of suggestions (lessons, best practices, projects) as the page shows it."""

    key: str
    label: str
    items: list[MatchItem]


@dataclass
class MatchResults:
    """What matching found: grouped suggestions and the municipalities behind them."""

    description: str
    groups: list[MatchGroup]
    municipalities: list[SimilarMunicipality]
    degraded: bool
    notice: str

    @property
    def results(self) -> list[MatchItem]:
        """All suggestions as one list by score: the API's ``results`` and the evaluation."""
        items = [item for group in self.groups for item in group.items]
        return sorted(items, key=lambda item: -item.score)


def clean_description(text) -> str:
    """Validate the free-text description (German messages on error)."""
    if text is None or not isinstance(text, str):
        raise MatchError(_("Bitte beschreiben Sie Ihr Vorhaben."))
    cleaned = clean_query_value(text, max_length=max_description_length() + 1)
    if not cleaned:
        raise MatchError(_("Bitte beschreiben Sie Ihr Vorhaben."))
    if not query_tokens(cleaned):  # "?!" would still get a full page of suggestions
        raise MatchError(_("Bitte beschreiben Sie Ihr Vorhaben in ein paar Worten."))
    if len(cleaned) > max_description_length():
        raise MatchError(_(
            "Die Beschreibung ist zu lang (höchstens %(max)s Zeichen). Bitte kürzen Sie sie auf "
            "das Wesentliche."
        ) % {"max": german_count(max_description_length())})
    return cleaned


def _windows(text: str, embedder) -> list[str]:
    """Split a long description into windows the model reads without truncation."""
    budget = max(32, embedder.max_tokens - 8)
    if _surely_fits(text, embedder, budget) or embedder.count_tokens(text) <= budget:
        return [text]
    windows, current = [], ""
    pieces = [part for piece in _PIECE_END.split(text) if piece.strip()
              for part in _fitting(piece.strip(), embedder, budget)]
    for piece in pieces:
        candidate = f"{current} {piece}".strip()
        if current and embedder.count_tokens(candidate) > budget:
            windows.append(current)
            current = piece
        else:
            current = candidate
    if current:
        windows.append(current)
    return windows


def _fitting(piece: str, embedder, budget: int) -> list[str]:
    """The piece, halved at word boundaries until every part fits the model's window: a
    piece longer than the window (no sentence end or line break in it) was cut off."""
    if embedder.count_tokens(piece) <= budget:
        return [piece]
    words = piece.split()
    if len(words) < 2:
        return [piece]  # one overlong "word": the model reads its beginning
    middle = len(words) // 2
    return (_fitting(" ".join(words[:middle]), embedder, budget)
            + _fitting(" ".join(words[middle:]), embedder, budget))


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

    ``rank_pages`` embeds its query with the embedder it is given; wrapping lets a
    description longer than the model's window count in full (the windows are averaged and
    re-normalised, as the reference e5 engine does). The windows are embedded only when
    ``rank_pages`` asks, on its embedding thread, so the model works while PostgreSQL
    nominates the full-text candidates, as in a hybrid search.
    """

    def __init__(self, embedder, text: str):
        self.model_id = embedder.model_id
        self.embedder = embedder
        self.text = text

    def embed_query(self, _text: str):
        """The description's vector; ``_text`` is the ranked query, the same description."""
        windows = _windows(self.text, self.embedder)
        vectors = np.stack([self.embedder.embed_query(w) for w in windows])
        mean = vectors.mean(axis=0)
        return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


# --- Matching -------------------------------------------------------------------------------


def match_project(description: str, *, user, municipality=None, topics=(), limit: int = 5,
                  request=None) -> MatchResults:
    """What other municipalities learned that helps with the described project.

    ``municipality`` (a Municipality or None) is the asking one: its own material is excluded.
    ``topics`` (Topic objects) gently boost pages that share them; they never hide anything.
    """
    description = clean_description(description)
    limit = max(1, min(int(limit), 20))
    # Ranking and items read the pages' facts under one content token, as a search does.
    with remembered_access(user), IndexGeneration.pinned(), page_facts.pinned():
        return _match(description, user=user, municipality=municipality, topics=topics,
                      limit=limit, request=request)


def _match(description: str, *, user, municipality, topics, limit: int,
           request) -> MatchResults:
    # The search's tuned retrieval, with one difference: full text passes on its best 100
    # passages (KNOWLEDGE_MATCH_FULLTEXT_NOMINEES) instead of the search's 70, out of the
    # same passages the search scores (budget 7 × 100 = the search's 10 × 70). A description's
    # many words spread its full-text evidence: with 70, the project descriptions lost 0.008
    # nDCG@10; 100 from both retrievers (until 2026-12-07) ranked alike but made matching 8 to
    # 12 % slower than a search with the same text (docs/speed-history.md, fifteenth round).
    params = FusionParams.from_settings(
        candidates=int(setting("KNOWLEDGE_MATCH_CANDIDATES", 70)),
        fulltext_nominees=int(setting("KNOWLEDGE_MATCH_FULLTEXT_NOMINEES", 100)),
        fulltext_budget=int(setting("KNOWLEDGE_MATCH_FULLTEXT_BUDGET", 7)))
    filters = SearchFilters(
        exclude_municipality_ids=(municipality.pk,) if municipality is not None else ()
    )
    # Without a model, full text with current_embedder's notice; an embedding that fails
    # degrades to full text inside rank_pages, with its notice.
    embedder, notice = current_embedder()
    wrapped = None if embedder is None else _DescriptionEmbedder(embedder, description)
    ranked = rank_pages(
        description, user=user, mode="fulltext" if wrapped is None else "hybrid",
        filters=filters, params=params, embedder=wrapped
    )
    notice = ranked.notice or notice
    # Enough pages to fill every group after folding and the per-project caps; loading them
    # is most of what matching adds to a search.
    depth = max(int(setting("KNOWLEDGE_MATCH_PAGE_DEPTH", 30)), 3 * limit)
    items, links = load_items(ranked.pages[:depth], topics, user)
    groups = _group(items, limit)
    # Explanations only for what is shown, from the passage scores the ranking computed.
    shown = [member for group in groups for entry in group.items
             for member in (entry, *entry.members)]
    explanations = _explanations({item.page_id for item in shown}, ranked, description, params)
    for item in shown:
        item.explanations = explanations.get(item.page_id, [])
    complete_shown(shown, links, request)
    results = MatchResults(
        description=description,
        groups=groups,
        municipalities=list_similar_municipalities(rank_municipalities(items), links, request),
        degraded=ranked.mode != "hybrid",
        notice=notice,
    )
    for rank, item in enumerate(results.results, 1):  # one rank across the groups
        item.rank = rank
    return results

def _explanations(page_ids: set[int], ranked: Ranking, description: str,
                  params: FusionParams) -> dict[int, list]:
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
    snippets = headlines([pk for keep in chosen.values() for pk in keep],
                                  description, params)
    return {
        page_id: [Explanation(*snippets.get(pk, ("", "", None))) for pk in keep]
        for page_id, keep in chosen.items()
    }


def _group(items: list[MatchItem], limit: int) -> list[MatchGroup]:
    """Group by kind; fold protocols into their project; cap lessons per project."""
    per_project_cap = int(setting("KNOWLEDGE_MATCH_PER_PROJECT", 2))
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
