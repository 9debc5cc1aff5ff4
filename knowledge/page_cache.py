"""Whole-page cache for anonymous visitors: pages and listings without routing or rendering.

Why: a page view costs Wagtail's routing, the view-restriction checks, related material and
template rendering, about twenty queries and tens of milliseconds of CPU, and under load it
queues behind search and matching. Visitors without a session all see the same thing (only
public pages, no personal parts), so what one of them got can be handed to the next until the
content changes.

What is never served from here: anyone logged in, anyone with a session (a page unlocked by
password, pending messages), requests with credentials, and responses that are not a plain
200 (a restricted page answers an anonymous visitor with a redirect to the login). The one
per-request part of a cached page, the CSRF token of its forms (feedback), is filled in per
request, so every visitor gets a token that matches their own CSRF cookie.

Freshness: the key contains the shared token of :class:`PageCacheGeneration`, which
:func:`connect` replaces after every commit that changes pages, their privacy, files, images
or snippets, and after every "passages changed" announcement of the index (related material
follows the index). Each cacheable request reads it (one single-row query), so a change shows
at once in every process. ``KNOWLEDGE_PAGE_CACHE_SECONDS`` bounds everything else (texts that
depend on today's date); 0 switches the cache off.
"""

from __future__ import annotations

import re
import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from wagtail.signals import page_published, page_unpublished, post_page_move

from knowledge.models import PageCacheGeneration

CACHE_ALIAS = "pages"
STATUS_HEADER = "X-Page-Cache"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# Where Django's {% csrf_token %} puts the token; stored pages hold a placeholder instead.
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# Apps whose rows end up in what a visitor sees (pages, privacy, files, images, tags,
# municipalities and topics). Search logs, feedback and subscriptions do not, and change on
# every request.
_CONTENT_APPS = frozenset({
    "wagtailcore", "knowledge", "attachments", "wagtaildocs", "wagtailimages", "taggit",
})
# Rows of those apps that change nothing visible: drafts, history, workflow state.
_NOT_CONTENT = frozenset({
    "wagtailcore.revision", "wagtailcore.pagelogentry", "wagtailcore.modellogentry",
    "wagtailcore.taskstate", "wagtailcore.workflowstate", "wagtailcore.pagesubscription",
    "wagtailcore.comment", "wagtailcore.commentreply", "wagtailcore.pagelock",
    "knowledge.pagecachegeneration",
})


def cache_for_anonymous(view):
    """Serve ``view`` to anonymous visitors from the page cache, filling the cache on a miss."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = _cache_key(request)
        store = caches[CACHE_ALIAS]
        content_type, body = store.get(key, (None, None))
        if body is not None:
            return _fresh_copy(request, content_type, body)
        response = view(request, *args, **kwargs)
        if request.method == "GET" and _cacheable_response(request, response):
            timeout = settings.KNOWLEDGE_PAGE_CACHE_SECONDS

            def remember(rendered):
                store.set(key, (rendered["Content-Type"], _CSRF_VALUE.sub(
                    rb"\1" + _CSRF_PLACEHOLDER + rb"\2", rendered.content)), timeout)

            if hasattr(response, "add_post_render_callback") and not response.is_rendered:
                response.add_post_render_callback(remember)
            else:
                remember(response)
            response[STATUS_HEADER] = "miss"
        return response

    return cached_view


def connect():
    """Replace the shared token after each commit that changes visible content."""
    post_save.connect(_content_changed, dispatch_uid="page-cache-save")
    post_delete.connect(_content_changed, dispatch_uid="page-cache-delete")
    m2m_changed.connect(_content_changed, dispatch_uid="page-cache-m2m")
    page_published.connect(_page_changed, dispatch_uid="page-cache-published")
    page_unpublished.connect(_page_changed, dispatch_uid="page-cache-unpublished")
    # Moving runs treebeard's raw SQL, which sends no post_save.
    post_page_move.connect(_page_changed, dispatch_uid="page-cache-moved")
    # Related material is computed from the index: a page indexed after its publication
    # changes what other pages list.
    from search.indexing.events import passages_changed

    passages_changed.connect(_page_changed, dispatch_uid="page-cache-passages")


def renew_token():
    """A new shared token: every process's cached pages become misses."""
    PageCacheGeneration.objects.bulk_create(
        [PageCacheGeneration(pk=1, token=uuid.uuid4())],
        update_conflicts=True, unique_fields=["id"], update_fields=["token"],
    )


def _content_changed(sender, **kwargs):
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label not in _CONTENT_APPS or meta.label_lower in _NOT_CONTENT:
        return
    _renew_after_commit()


def _page_changed(sender, **kwargs):
    _renew_after_commit()


def _renew_after_commit():
    # After the commit: readers must not see the new token before the new content (they
    # would cache the old content under it); robust, because the change itself is done.
    if settings.KNOWLEDGE_PAGE_CACHE_SECONDS > 0:
        transaction.on_commit(renew_token, robust=True)


def _cacheable_request(request) -> bool:
    if settings.KNOWLEDGE_PAGE_CACHE_SECONDS <= 0 or request.method not in _SAFE_METHODS:
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return False
    if "HTTP_AUTHORIZATION" in request.META or getattr(request, "is_preview", False):
        return False
    return not request.user.is_authenticated


def _cacheable_response(request, response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if any(word in response.get("Cache-Control", "") for word in ("private", "no-")):
        return False
    session = getattr(request, "session", None)
    messages = getattr(request, "_messages", None)
    return not (session is not None and session.modified) and not (
        messages is not None and messages.added_new
    )


def _cache_key(request) -> str:
    token = PageCacheGeneration.objects.filter(pk=1).values_list("token", flat=True).first()
    return f"{token}:{request.scheme}://{request.get_host()}{request.get_full_path()}"


def _fresh_copy(request, content_type: str, body: bytes) -> HttpResponse:
    if _CSRF_PLACEHOLDER in body:
        # get_token also makes CsrfViewMiddleware set the matching cookie on this response.
        body = body.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(body, content_type=content_type)
    response[STATUS_HEADER] = "hit"
    return response
