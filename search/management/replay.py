"""Replay dumps for offline ranking studies (``evaluate_search --dump-replay DIR``).

Per judged set of one import: every query's final candidate pools of hybrid search (both exact
scores per candidate passage, before and after the vector-side feedback), its BM25 terms, and
once per import every passage's tsvector, length, page and vector, the document frequency of
every lexeme and the corpus statistics. Enough to recompute fusion and full-text expansions in
Python without the database (docs/search-ranking.md, eighth round).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from django.db import connection


def dump(sets, ids: dict[int, str], directory: Path, embedder) -> None:
    import search.retrieval as retrieval
    from search import evaluation
    from search.params import FusionParams
    from search.statistics import term_weights

    directory.mkdir(parents=True, exist_ok=True)
    params = FusionParams.from_settings()
    calls: list[tuple[dict, dict, dict]] = []
    original = retrieval.fuse_pages

    def recording(ft, vec, pages, p):
        calls.append((dict(ft), dict(vec), dict(pages)))
        return original(ft, vec, pages, p)

    retrieval.fuse_pages = recording
    try:
        out_sets = {}
        for judged in sets:
            queries = []
            for query in judged.queries:
                text, filters = evaluation.prepare(query)
                calls.clear()
                ranking = retrieval.rank_pages(text, user=None, mode="hybrid",
                                               filters=filters, params=params,
                                               embedder=embedder)
                terms = term_weights(text, params, None)
                _first_ft, first_vec, _ = calls[0]
                ft, vec, pages = calls[-1]
                queries.append({
                    "id": query.id, "text": text, "judgement": query.judgement,
                    "terms": terms.terms, "weights": terms.weights,
                    "frequencies": terms.frequencies, "average_length": terms.average_length,
                    "ft": ft, "vec": vec, "vec_first": first_vec, "pages": pages,
                    "ranking": [page for page, _s, _p in ranking.pages[:10]],
                    "vector": list(map(float, embedder.embed_query(text))),
                })
            out_sets[judged.name] = queries
    finally:
        retrieval.fuse_pages = original
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, page_id, kind, heading, search_vector::text, "
                       "length(search_vector), embedding::text FROM search_passage")
        passages = {row[0]: {"page": row[1], "kind": row[2], "heading": row[3],
                             "tsv": row[4], "len": row[5], "emb": row[6]}
                    for row in cursor.fetchall()}
        cursor.execute("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM "
                       "search_passage')")
        df = dict(cursor.fetchall())
        cursor.execute("SELECT wp.id, wp.title FROM wagtailcore_page wp "
                       "WHERE wp.id = ANY(%s)", [list(ids)])
        titles = dict(cursor.fetchall())
    name = "-".join(sorted({s.name.split("-")[0] for s in sets}))
    with gzip.open(directory / f"{name}.json.gz", "wt", encoding="utf-8") as handle:
        json.dump({"sets": out_sets, "passages": passages, "df": df,
                   "ids": {str(k): v for k, v in ids.items()}, "titles": titles,
                   "params": {"k1": params.bm25_k1, "b": params.bm25_b,
                              "title_boost": params.title_boost,
                              "vector_weight": params.vector_weight}}, handle)
