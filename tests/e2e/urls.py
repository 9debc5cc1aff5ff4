"""Test-only URLconf (never in production): the real URLs plus one view that fails.

The 500 page is what visitors see when something breaks; to check it in the browser we need a
request that really fails, and only the browser tests install this URLconf.
"""

from django.urls import path

from knowledge.urls import urlpatterns as site_urlpatterns


def failing_view(request):
    raise RuntimeError("Absichtlicher Fehler für den Browsertest der 500-Seite")


urlpatterns = [path("e2e-test-fehler/", failing_view), *site_urlpatterns]
