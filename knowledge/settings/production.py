"""Production settings: secrets and hosts from the environment, hardened cookies and headers."""

import os

from django.core.exceptions import ImproperlyConfigured

from knowledge.database import database_config

from .base import *  # noqa: F403
from .base import KNOWLEDGE_DATA_DIR, env_int

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")
                 if h.strip()]
if not ALLOWED_HOSTS:  # else every request would be answered 400, with nothing in the log
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production "
                               "(comma-separated host names, e.g. wissensnetz.example.de).")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
DATABASES = {"default": database_config(KNOWLEDGE_DATA_DIR)}
# Keep each worker thread's connection between requests: a new PostgreSQL connection per
# request costs more than serving a cached page. Not in development, where runserver starts a
# thread per request.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"]["CONN_MAX_AGE"] = env_int("KNOWLEDGE_DB_CONN_MAX_AGE", 60)

# Static files straight from the application server (WhiteNoise: compressed, cache-busted
# names), so a reverse proxy needs no access to the checkout.
MIDDLEWARE = [
    MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]  # noqa: F405
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Indexing runs in `manage.py db_worker`, not in the request that published the page (unless
# KNOWLEDGE_TASK_BACKEND names another backend).
TASKS = {"default": {"BACKEND": os.environ.get("KNOWLEDGE_TASK_BACKEND",
                                               "django_tasks_db.DatabaseBackend")}}
