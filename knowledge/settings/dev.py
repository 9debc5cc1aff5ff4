"""Local development and `make run`: debug on, embedded database, generated secret key."""

import os

from knowledge.database import database_config

from .base import *  # noqa: F403
from .base import KNOWLEDGE_DATA_DIR
from .secret import load_or_create_secret_key

DEBUG = True
SECRET_KEY = load_or_create_secret_key(KNOWLEDGE_DATA_DIR)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DATABASES = {"default": database_config(KNOWLEDGE_DATA_DIR)}
# Digests are printed, not sent, unless an SMTP server is configured (see README).
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND",
                               "django.core.mail.backends.console.EmailBackend")

# The audit log (knowledge/audit.py) matters in production; locally it would drown the console
# while the demo content is published.
LOGGING["loggers"]["knowledge.audit"] = {"level": "WARNING"}  # noqa: F405
