"""Middleware of the knowledge app: the request-wide access memo, and private responses for
members.

Request-wide memo of the viewer's access (see :func:`knowledge.access.remembered_access`): a
page view asks who may see what several times (the project link, sibling pages, related
material, the municipality's other pages); without the memo each question re-reads every view
restriction with its groups. Only safe (read-only) requests are wrapped: a request that changes
a restriction must see its own change.
"""

from __future__ import annotations

from django.utils.cache import patch_cache_control

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


class PrivateForMembersMiddleware:
    """``Cache-Control: private`` on every response to a logged-in user.

    What a member sees lists pages restricted to members (a project's internal protocols, the
    municipality's count of them). ``Vary: Cookie`` alone keeps that out of shared caches only
    if every proxy honours it; ``private`` forbids them to store it. Applied on the way out,
    after the page cache (:mod:`knowledge.page_cache`) has decided whether to keep the render
    for other members of the same visibility class, which it does not for private answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True)
        return response
