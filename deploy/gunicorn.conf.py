"""gunicorn settings for production and the load test: ``gunicorn -c deploy/gunicorn.conf.py``.

Threads rather than many processes: every worker process holds its own copy of the embedding
model (about 2.3 GB resident: torch, the ONNX query model, the compound tables), so two
processes with several threads each serve more requests per GB than many single-threaded
workers. The model is loaded right after each
worker starts, so the first search does not pay for it (and a broken model shows up in the
log at start-up, while the site keeps serving in degraded mode).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 30
# A restart reloads the model (seconds of CPU, 2 GB), so workers are recycled rarely
# (0: never; the load test measures without recycling, see loadtest/run.sh).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = 5000
wsgi_app = "knowledge.wsgi:application"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", None)
errorlog = "-"


def post_worker_init(worker):
    """Load the embedding model and the compound splitter once per worker, before the first
    request."""
    import torch

    torch.set_num_threads(int(os.environ.get("KNOWLEDGE_TORCH_THREADS", "1")))
    from search.embedding import EmbeddingUnavailable, get_embedder

    try:
        get_embedder().embed_query("Aufwärmen")
    except EmbeddingUnavailable as exc:
        worker.log.warning("Embedding model unavailable, serving in degraded mode: %s", exc)
    # The compound splitter's tables (search/compounds.py) take seconds to load: read them
    # now, not on the first search of each worker.
    from search.compounds import split_word

    split_word("Bürgerbeteiligung")
