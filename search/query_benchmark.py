"""Measurements of ``bench_query_embedding``: the query encoders side by side.

Latency is measured in one process with every encoder loaded, query by query in rotating
order, so that the load other processes put on the machine falls on all encoders alike
(measuring one encoder after the other would compare different minutes of that load). Load time
and memory are measured in a fresh child process per encoder: in one process they would
include what earlier encoders had already loaded.

No Django import: the children are spawned with plain arguments.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from search.benchmark import Latency
from search.query_encoders import load_query_encoder

COSINE_BAR = 0.999


@dataclass
class EncoderFigures:
    """One row of the table."""

    name: str
    samples_ms: list[float] = field(default_factory=list)
    cosines: list[float] = field(default_factory=list)
    load_s: float = 0.0
    rss_mb: float = 0.0
    error: str = ""

    @property
    def latency(self) -> Latency:
        """The samples as bench_search reports them (p50, p95)."""
        return Latency(self.name, self.samples_ms)

    @property
    def meets_bar(self) -> bool:
        return not self.error and min(self.cosines) >= COSINE_BAR


def _rss_mb() -> float:
    """Resident memory of this process now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_model(model_dir: str, threads: int):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return SentenceTransformer(model_dir, device="cpu", local_files_only=True)


def load_cost(name: str, model_dir: str, prompt: str, threads: int,
              warm_queries: Sequence[str]) -> tuple[float, float]:
    """(seconds to make the encoder ready, resident MB after a few queries) in this process.

    Runs in a fresh child. The passage model is loaded first because the search always holds it
    (passages, token counts); for ``torch`` it is the encoder itself, so its load time counts.
    """
    started = time.perf_counter()
    model = load_model(model_dir, threads)
    model_s = time.perf_counter() - started
    started = time.perf_counter()
    encoder = load_query_encoder(name, model, prompt, Path(model_dir), threads)
    for text in warm_queries:
        encoder.encode(text)
    encoder_s = time.perf_counter() - started
    return (model_s if name == "torch" else 0.0) + encoder_s, _rss_mb()


def measure_load_costs(names: Sequence[str], model_dir: str, prompt: str, threads: int,
                       warm_queries: Sequence[str]) -> dict[str, tuple[float, float] | str]:
    """:func:`load_cost` of each encoder, each in a fresh process (or the error it raised)."""
    results: dict[str, tuple[float, float] | str] = {}
    for name in names:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            try:
                results[name] = pool.submit(load_cost, name, model_dir, prompt, threads,
                                            list(warm_queries)).result()
            except Exception as exc:  # reported in the table, the other rows still count
                results[name] = f"{type(exc).__name__}: {exc}"
    return results


def cosines(vectors: np.ndarray, reference: np.ndarray) -> list[float]:
    """Row-wise cosine (both sides normalised here, whatever the encoder returned)."""
    a = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    b = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    return [float(x) for x in np.sum(a * b, axis=1)]


def interleaved_latency(encoders: dict[str, Callable[[str], object]], queries: Sequence[str],
                        progress: Callable[[], None] = lambda: None) -> dict[str, list[float]]:
    """Milliseconds per query and encoder, the encoders' order rotating from query to query."""
    names = list(encoders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index, text in enumerate(queries):
        for name in itertools.islice(itertools.cycle(names), index % len(names),
                                     index % len(names) + len(names)):
            started = time.perf_counter()
            encoders[name](text)
            samples[name].append((time.perf_counter() - started) * 1000)
        progress()
    return samples
