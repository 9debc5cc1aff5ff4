"""Pseudo-relevance feedback on the vector side of hybrid search (Rocchio in embedding space).

Why: a colleague's paraphrase shares few words with its answer, and its embedding lands near
the right neighbourhood rather than on the answer. The best pages of the first fused ranking
are mostly on topic, so moving the query vector towards their passages (Rocchio 1971; in
embedding space as in ANCE-PRF and "vector PRF") re-scores the candidates by what the answers
actually look like, without a second model call: the feedback vector is the mean of stored
passage vectors (pgvector's ``avg``, one query), and the candidates' new similarities are one
more query; nothing else of the first ranking is recomputed.
"""

from __future__ import annotations

import json

import numpy as np
from django.db import connection

from search.query import int_array
from search.vector import vector_literal


def feedback_vector(vector, feedback_passages: list[int], weight: float, model_id: str):
    """The query vector moved by ``weight`` towards the mean of ``feedback_passages``' vectors.

    Both parts are unit length before mixing (e5 vectors are normalised; the mean is not), so
    ``weight`` means the same for every query. Returns the query vector unchanged when none of
    the passages has a vector of the current model.
    """
    if not feedback_passages or weight <= 0:
        return vector
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(embedding)::text FROM search_passage "
            "WHERE id = ANY(%s::bigint[]) AND model_id = %s AND embedding IS NOT NULL",
            [int_array(feedback_passages), model_id],
        )
        (mean,) = cursor.fetchone()
    if mean is None:
        return vector
    query = np.asarray(vector, dtype=np.float32)
    centroid = np.asarray(json.loads(mean), dtype=np.float32)
    moved = _unit(query) + weight * _unit(centroid)
    return _unit(moved)


def similarities(passage_ids: list[int], vector, model_id: str) -> dict[int, float]:
    """Exact cosine similarity of ``vector`` to each passage of the current model."""
    if not passage_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, 1 - (embedding <=> %s::vector) FROM search_passage "
            "WHERE id = ANY(%s::bigint[]) AND model_id = %s AND embedding IS NOT NULL",
            [vector_literal(vector), int_array(passage_ids), model_id],
        )
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
