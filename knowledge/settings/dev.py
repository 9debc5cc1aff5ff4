"""Local development and `make run`: embedded database, generated secret key, static files
and images served by the application; debug only with ``DJANGO_DEBUG=1``."""

import os

from knowledge.database import database_config

from .base import *  # noqa: F403
from .base import KNOWLEDGE_DATA_DIR
from .secret import load_or_create_secret_key

# Off unless asked for (DJANGO_DEBUG=1): visitors of `make run` get the site's German error
# pages, not Django's technical ones, which list every URL pattern in English.
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
# Static files straight from the apps (WhiteNoise, no collectstatic): runserver serves them
# only with DEBUG. Uploaded images too (knowledge/urls.py); documents never, they go through
# Wagtail's serve view and its privacy check.
MIDDLEWARE = [
    MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]  # noqa: F405
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
KNOWLEDGE_SERVE_IMAGES = True
SECRET_KEY = load_or_create_secret_key(KNOWLEDGE_DATA_DIR)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DATABASES = {"default": database_config(KNOWLEDGE_DATA_DIR)}
# Digests are printed, not sent, unless an SMTP server is configured (see README).
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND",
                               "django.core.mail.backends.console.EmailBackend")

# The audit log (knowledge/audit.py) matters in production; locally it would drown the console
# while the demo content is published.
LOGGING["loggers"]["knowledge.audit"] = {"level": "WARNING"}  # noqa: F405
