"""Production settings from the environment: clear errors for missing or malformed values,
and the documented variables take effect (each case in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "knowledge.settings.production",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "wissensnetz.example.de",
    "DATABASE_URL": "postgres://wissensnetz:geheim@db.example.de:5432/wissensnetz",
}
PRINT = ("from django.conf import settings; import json; print(json.dumps({"
         "'conn_max_age': settings.DATABASES['default']['CONN_MAX_AGE'], "
         "'tasks': settings.TASKS['default']['BACKEND'], 'hosts': settings.ALLOWED_HOSTS}))")


def _settings(**environment) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "KNOWLEDGE_", "DATABASE_URL"))}
    env.update({**PRODUCTION, "KNOWLEDGE_DATA_DIR": os.environ.get(
        "KNOWLEDGE_DATA_DIR", str(settings.KNOWLEDGE_DATA_DIR))})
    env.update({k: v for k, v in environment.items() if v is not None})
    for key in [k for k, v in environment.items() if v is None]:
        env.pop(key, None)
    return subprocess.run([sys.executable, "-c", PRINT], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=120, check=False)


def test_documented_variables_take_effect():
    done = _settings(KNOWLEDGE_DB_CONN_MAX_AGE="0",
                     KNOWLEDGE_TASK_BACKEND="django_tasks.backends.immediate.ImmediateBackend")
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values == {"conn_max_age": 0, "hosts": ["wissensnetz.example.de"],
                      "tasks": "django_tasks.backends.immediate.ImmediateBackend"}


def test_missing_allowed_hosts_stops_the_start():
    done = _settings(DJANGO_ALLOWED_HOSTS=None)
    assert done.returncode != 0 and "DJANGO_ALLOWED_HOSTS must be set" in done.stderr


def test_malformed_number_names_its_variable():
    done = _settings(KNOWLEDGE_PAGE_CACHE_SECONDS="10m")
    assert done.returncode != 0
    assert "KNOWLEDGE_PAGE_CACHE_SECONDS must be an integer, got '10m'" in done.stderr
