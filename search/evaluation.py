"""Retrieval quality on judged query sets: nDCG@10, recall@10 and MRR@10 per ranking mode.

Two kinds of dataset directory (``records.jsonl`` + ``queries.jsonl``):

* the Musterdatenkatalog format (``../shared/datasets/musterdatenkatalog/``): records with
  ``id``, ``title``, ``description``, ``theme``, ``municipality``; each becomes one knowledge
  page (title, description as body, municipality, theme as topic). Queries carry the asking
  ``municipality``, whose own items are excluded, and ``relevant`` record ids;
* the import format (``knowledge/demo_content/*.jsonl``, recognised by a ``type`` field), with
  queries whose ``relevant`` are ``external_id``s and an optional ``exclude_municipality``.

The data goes into a throwaway database, never the user's: ``evaluate_search`` runs the
evaluation in a child process whose settings point at a fresh embedded PostgreSQL cluster in a
temporary directory (``knowledge.settings.test`` without ``DATABASE_URL``), which is deleted
when the child exits. See :mod:`search.management.commands.evaluate_search`.

Matching (``"matching"``, the row "Matching (/lernen/)") runs the real matching path,
:func:`search.matching.match_project`, as ``/lernen/`` and ``POST /api/v1/match`` do: the
query text is the project description, the query's municipality the asking one (excluded by
matching itself), its optional ``topics`` are passed as the form's topic field would. The
grouped answer is flattened into one ranking like the API's ``results`` list: the entries of
all groups ordered by matching score, and the protocols or pages folded under a project entry
directly after it, in their own score order (where they are shown, nested in the entry). Each
group is asked for ``k`` entries, so grouping never leaves fewer than ``k`` suggestions for
the metric while material exists. The judged project descriptions over the demo content are
``search/judgements/matching_descriptions.jsonl`` (see :func:`load_matching_dataset`).

Metrics use binary relevance, except for graded sets (the paraphrase queries,
:func:`load_paraphrase_dataset`): there nDCG uses the gain 2^grade − 1 of grades 2/1/0 and the
ideal ranking sorts the judged grades, while recall and MRR count grade >= 1 as relevant. nDCG's
ideal ranking puts min(|relevant|, k) hits first, recall is the share of relevant items in the
top k, MRR the reciprocal rank of the first hit (0 if none in the top k). All are averaged over
queries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from search.metrics import K, Scores

MODES = ("fulltext", "vector", "hybrid")
WAGTAIL = "wagtail"
MATCHING = "matching"
EVAL_DATE = "2024-01-01"


# --- Datasets ------------------------------------------------------------------------------


@dataclass
class Query:
    id: str
    text: str
    relevant: list[str]
    exclude_municipality: str | None = None
    kind: str = ""
    topics: list[str] = field(default_factory=list)
    grades: dict[str, int] = field(default_factory=dict)  # graded sets: id -> 2/1/0

    @property
    def judgement(self) -> list[str] | dict[str, int]:
        """What the metrics compare a ranking with: the grades if graded, else the ids."""
        return self.grades or self.relevant


@dataclass
class Dataset:
    name: str
    records: list[dict]  # in the import format
    queries: list[Query] = field(default_factory=list)
    base_dir: Path | None = None  # where the records' attachment paths start


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def musterdatenkatalog_record(row: dict, summary_chars: int = 400) -> dict:
    """One Musterdatenkatalog row as an import record (protocol step 1).

    The import requires a summary: a short description is the summary (and there is no body),
    a long one keeps its beginning as summary and the full text as body.
    """
    title = (row.get("title") or row["id"]).strip()[:255]
    description = " ".join((row.get("description") or "").split())
    if len(description) <= summary_chars:
        summary, body = description or title, ""
    else:
        summary = description[:summary_chars].rsplit(" ", 1)[0] + " …"
        body = description
    return {
        "external_id": row["id"],
        "type": "project",
        "title": title,
        "municipality": row["municipality"],
        "topics": [row["theme"]] if row.get("theme") else [],
        "date": EVAL_DATE,
        "summary": summary,
        "body": body,
        "project": None,
    }


def load_dataset(directory: Path, queries_file: Path | None = None) -> Dataset:
    """Read a dataset directory (either format, see the module docstring)."""
    directory = Path(directory)
    rows = _read_jsonl(directory / "records.jsonl")
    import_format = bool(rows) and "type" in rows[0]
    records = rows if import_format else [musterdatenkatalog_record(r) for r in rows]
    queries = [
        Query(id=q["id"], text=q["query"], relevant=list(q["relevant"]),
              exclude_municipality=q.get("exclude_municipality") or q.get("municipality"),
              kind=q.get("kind", ""))
        for q in _read_jsonl(queries_file or directory / "queries.jsonl")
    ]
    return Dataset(directory.name, records, queries)


def _demo_records(content_dir: Path) -> list[dict]:
    """All records of the demo content (every ``*.jsonl`` in ``content_dir``)."""
    records = []
    for path in sorted(Path(content_dir).glob("*.jsonl")):
        records.extend(_read_jsonl(path))
    return records


def load_demo_dataset(content_dir: Path, queries_file: Path, name: str = "demo") -> Dataset:
    """The demo content (all ``*.jsonl`` in ``content_dir``) with judged search queries:
    the demo queries, or (``name="demo-attachments"``) the queries answered by attachments."""
    records = _demo_records(content_dir)
    queries = [
        Query(id=q["id"], text=q["query"], relevant=list(q["relevant"]),
              exclude_municipality=q.get("exclude_municipality"), kind=q.get("kind", ""))
        for q in _read_jsonl(queries_file)
    ]
    return Dataset(name, records, queries, base_dir=Path(content_dir))


PARAPHRASE_HALVES = ("tuning", "heldout")


def load_paraphrase_dataset(content_dir: Path, queries_file: Path, half: str) -> Dataset:
    """The demo content with one half of the graded paraphrase queries.

    Each line of ``queries_file``: ``id``, ``half`` (``tuning`` or ``heldout``), ``query`` (a
    problem described in a colleague's own words, sharing few content words with the answer)
    and ``grades`` (``external_id`` -> 2 answers it, 1 helps, 0 judged and not helpful). Ranking
    changes are chosen on the tuning half only; the held-out half is only reported.
    """
    if half not in PARAPHRASE_HALVES:
        raise ValueError(f"unknown half {half!r}")
    queries = [
        Query(id=q["id"], text=q["query"], grades=dict(q["grades"]), kind="paraphrase",
              relevant=sorted(i for i, grade in q["grades"].items() if grade > 0))
        for q in _read_jsonl(queries_file) if q["half"] == half
    ]
    return Dataset(f"demo-paraphrase-{half}", _demo_records(content_dir), queries,
                   base_dir=Path(content_dir))


def load_matching_dataset(content_dir: Path, descriptions_file: Path) -> Dataset:
    """The demo content with the judged project descriptions of the matching task.

    Each line of ``descriptions_file``: ``id``, ``municipality`` (the asking one, excluded),
    ``description`` (3–6 German sentences), optional ``topics`` (names, as chosen in the
    form) and ``relevant`` (``external_id``s of helpful material of other municipalities).
    """
    records = _demo_records(content_dir)
    queries = [
        Query(id=q["id"], text=q["description"], relevant=list(q["relevant"]),
              exclude_municipality=q["municipality"], kind=q.get("kind", ""),
              topics=list(q.get("topics") or []))
        for q in _read_jsonl(descriptions_file)
    ]
    return Dataset("demo-matching", records, queries, base_dir=Path(content_dir))


# --- Loading into the (throwaway) database -------------------------------------------------


def import_dataset(dataset: Dataset, progress: Callable | None = None) -> dict[int, str]:
    """Import the records and index their passages; returns page id -> external_id.

    Must only ever run against a throwaway database (the command makes sure of that).
    """
    from knowledge.importing import import_records, validate_lines
    from knowledge.models import KnowledgePage
    from search.indexing.writer import index_pages

    lines = [json.dumps(r, ensure_ascii=False) for r in dataset.records]
    valid, errors = validate_lines(lines, base_dir=dataset.base_dir)
    if errors:
        raise ValueError("invalid records: " + "; ".join(str(e) for e in errors[:5]))
    bar = progress(total=len(valid), desc="Import", unit="Seite") if progress else None
    import_records(valid, progress=bar)
    if bar is not None:
        bar.close()
    ids = dict(KnowledgePage.objects.filter(
        external_id__in=[r["external_id"] for r in dataset.records]
    ).values_list("pk", "external_id"))
    page_ids = sorted(ids)
    bar = progress(total=len(page_ids), desc="Index", unit="Seite") if progress else None
    for start in range(0, len(page_ids), 64):
        batch = page_ids[start:start + 64]
        index_pages(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    # Wagtail's own search index is updated by background tasks; build it for the fourth row.
    from django.core.management import call_command

    call_command("wagtail_update_index", verbosity=0)
    return ids


# --- Running queries -----------------------------------------------------------------------


class CachingEmbedder:
    """Embeds each query once although several modes (and parameter sets) ask for it.

    Public for ``evaluate_search --tune``, which ranks every query with many parameter sets.
    """

    def __init__(self, embedder):
        self.inner = embedder
        self.model_id = embedder.model_id
        self.cache: dict[str, object] = {}

    def embed_query(self, text: str):
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]


def prepare(query: Query) -> tuple[str, object]:
    from knowledge.models import Municipality
    from search.query import SearchFilters, clean_query, max_query_length

    text = clean_query(query.text[: max_query_length()])
    filters = SearchFilters()
    if query.exclude_municipality:
        municipality = Municipality.objects.filter(name__iexact=query.exclude_municipality).first()
        if municipality is not None:
            filters = SearchFilters(exclude_municipality_ids=(municipality.pk,))
    return text, filters


def run_mode(dataset: Dataset, mode: str, ids: dict[int, str], *, embedder=None,
             params=None, progress: Callable | None = None, k: int = K) -> Scores:
    """Average metrics of one ranking mode (or ``"wagtail"``) over the dataset's queries."""
    from search.params import FusionParams
    from search.retrieval import rank_pages

    params = params or FusionParams.from_settings()
    rankings = []
    queries = dataset.queries
    iterator = progress(queries, desc=mode, unit="Anfrage", leave=False) if progress else queries
    if mode == MATCHING:
        return run_matching(dataset, ids, progress=progress, k=k)
    for query in iterator:
        text, filters = prepare(query)
        if mode == WAGTAIL:
            ranked_ids = _wagtail_ranking(text, filters, k)
        else:
            ranking = rank_pages(text, user=None, mode=mode, filters=filters, params=params,
                                 embedder=embedder)
            if ranking.mode != mode:
                raise RuntimeError(f"{mode} search degraded to {ranking.mode}: "
                                   f"{ranking.notice}")
            ranked_ids = [page_id for page_id, _s, _p in ranking.pages[:k]]
        rankings.append(([ids.get(pid, "") for pid in ranked_ids], query.judgement))
    return Scores.average(rankings, k)


def matching_ranking(results) -> list[int]:
    """Page ids of a :class:`search.matching.MatchResults` as one ranking (display order).

    Entries of all groups by matching score (the API's ``results``); the pages folded under
    an entry (protocols of the same project) follow it directly, as they are shown nested in
    it. Every page appears once.
    """
    ranked: list[int] = []
    for item in results.results:
        for page_id in (item.page_id, *(member.page_id for member in item.members)):
            if page_id not in ranked:
                ranked.append(page_id)
    return ranked


def run_matching(dataset: Dataset, ids: dict[int, str], *, progress: Callable | None = None,
                 k: int = K) -> Scores:
    """Average metrics of the matching path (``/lernen/``) over the dataset's queries."""
    from knowledge.models import Municipality, Topic
    from search.matching import match_project

    rankings = []
    queries = dataset.queries
    iterator = (progress(queries, desc=MATCHING, unit="Anfrage", leave=False) if progress
                else queries)
    for query in iterator:
        municipality = (Municipality.objects.filter(name__iexact=query.exclude_municipality)
                        .first() if query.exclude_municipality else None)
        topics = list(Topic.objects.filter(name__in=query.topics)) if query.topics else []
        results = match_project(query.text, user=None, municipality=municipality,
                                topics=topics, limit=k)
        if results.degraded:
            raise RuntimeError(f"matching degraded to full text: {results.notice}")
        ranked_ids = matching_ranking(results)[:k]
        rankings.append(([ids.get(pid, "") for pid in ranked_ids], query.judgement))
    return Scores.average(rankings, k)


def _wagtail_ranking(text: str, filters, k: int) -> list[int]:
    """Wagtail's configured search backend (database, German) over the same pages.

    Its backend cannot filter on municipality (not a FilterField), so more results are fetched
    and the excluded municipality is dropped afterwards.
    """
    from knowledge.models import KnowledgePage

    excluded = set(filters.exclude_municipality_ids)
    results = KnowledgePage.objects.live().search(text)[: k + 200]
    ranked = []
    for page in results:
        if page.municipality_id in excluded:
            continue
        ranked.append(page.pk)
        if len(ranked) == k:
            break
    return ranked


def evaluate(dataset: Dataset, ids: dict[int, str], modes: Sequence[str] = (*MODES, WAGTAIL),
             *, progress: Callable | None = None, params=None) -> dict[str, Scores]:
    from search.embedding import get_embedder

    embedder = CachingEmbedder(get_embedder())
    return {mode: run_mode(dataset, mode, ids, embedder=embedder, params=params,
                           progress=progress) for mode in modes}


def format_table(title: str, scores: dict[str, Scores], k: int = K) -> str:
    labels = {"fulltext": "Volltext (fulltext)", "vector": "Vektor (vector)",
              "hybrid": "Hybrid (hybrid)", WAGTAIL: "Wagtail-Datenbanksuche",
              MATCHING: "Matching (/lernen/)"}
    lines = [title, f"| Modus | nDCG@{k} | Recall@{k} | MRR@{k} |", "|---|---:|---:|---:|"]
    for mode, s in scores.items():
        lines.append(f"| {labels.get(mode, mode)} | {s.ndcg:.3f} | {s.recall:.3f} "
                     f"| {s.mrr:.3f} |")
    queries = next(iter(scores.values())).queries if scores else 0
    lines.append(f"({queries} Anfragen)")
    return "\n".join(lines)
