"""Request-wide memo of the viewer's access (see :func:`knowledge.access.remembered_access`).

A page view asks who may see what several times (the project link, sibling pages, related
material, the municipality's other pages); without the memo each question re-reads every view
restriction with its groups. Only safe (read-only) requests are wrapped: a request that changes
a restriction must see its own change.
"""

from __future__ import annotations

from knowledge.access import remembered_access

_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RememberAccessMiddleware:
    """Wrap read-only requests in a lazy access memo for ``request.user``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in _READ_ONLY_METHODS:
            return self.get_response(request)
        with remembered_access(request.user, lazy=True):
            return self.get_response(request)
