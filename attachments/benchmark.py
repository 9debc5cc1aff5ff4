"""Extraction throughput for ``bench_search``: PDF pages per second, with and without the
worker process that every real extraction uses (its start-up is part of the cost)."""

from __future__ import annotations

import time
from pathlib import Path

from attachments.extraction import run_worker
from attachments.readers import read_pdf


def pdf_pages_per_second(path: Path, repeats: int = 10) -> dict:
    pages = max(s.page or 0 for s in read_pdf(str(path)))
    started = time.perf_counter()
    for _ in range(repeats):
        read_pdf(str(path))
    in_process = pages * repeats / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(repeats):
        answer = run_worker(str(path), path.name)
        if not answer.get("ok"):
            raise RuntimeError(f"extraction of {path} failed: {answer}")
    worker = pages * repeats / (time.perf_counter() - started)
    return {"file": path.name, "pages": pages, "repeats": repeats,
            "in_process_pages_per_s": round(in_process, 1),
            "worker_pages_per_s": round(worker, 1)}
