"""Whole-page cache: pages and listings without routing or rendering, shared per viewer class.

Why: a page view costs Wagtail's routing, the view-restriction checks, related material and
template rendering, about twenty queries and tens of milliseconds of CPU, and under load it
queues behind search and matching. Viewers who may see the same pages see the same page, apart
from a few personal parts, so what one of them got can be handed to the next until the
content changes.

Who shares an entry (the viewer class in the key): anonymous visitors, whose session, if
any, holds nothing a cached view reads (``anonymous``; only renders without session data are
stored); logged-in members with the same :func:`knowledge.access.visibility_key`, the
restricted sections they may not see (``member:<key>``). Everything a render shows that
depends on the viewer and not on that class is a personal part (:mod:`knowledge.personal`):
the account block with the user's name and logout form, Django messages, "Projekt … folgen"
with the user's own subscription state and Wagtail's userbar are filled per request on every
hit; the CSRF token of every other form (feedback) is too. Group-restricted pages, related
material, listings, matrix, profiles and roadmap comparison all filter through the denied
prefixes, so the visibility key is all that decides what a member may see; members have no
municipality or other profile data that a page shows.

Who never gets or fills an entry: users who edit or moderate (superusers, anyone with the
page permission to change, publish, lock or unlock, members of a moderation task's group:
Redaktion and Beratung); their pages show edit tools and drafts matter to them, and they are
few. Members of the group Kommune, who draft lessons and best practices (their own, and their
municipality's), are cached; their userbar (the edit link of a page they may edit) is a
personal part. Also never:
requests with credentials, previews, methods other than GET/HEAD, anonymous visitors whose
session holds a key not declared page-neutral (declared: the last matching and a search's vote
reference, :func:`share_pages_despite_session_key`; feedback leaves an empty session), members
whose session holds pending messages or a password-unlocked page, and responses that are not a
plain 200 (redirects, 403/404), stream, set cookies, are marked private or no-cache, modify the
session or add messages.

Freshness: the key contains the shared token of :class:`PageCacheGeneration`, which
:func:`connect` replaces after every commit that changes pages, their privacy, files, images
or snippets, and after every "passages changed" announcement of the index (related material
follows the index); with the cache switched off too, because search keys the page facts of its
result lists by the same token (:mod:`search.page_facts`). Each cacheable request reads it (one
single-row query), so a change shows at once in every process; the visibility key is
computed per request, so a changed group membership applies at once too. Subscriptions are a
personal part: following or unfollowing shows on the next view.
``KNOWLEDGE_PAGE_CACHE_SECONDS`` bounds everything else (texts that depend on today's date); 0
switches the cache off, ``KNOWLEDGE_PAGE_CACHE_MEMBERS=0`` only the members' entries.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from functools import wraps

from asgiref.local import Local
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, transaction
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_migrate,
)
from django.http import HttpResponse
from django.middleware.csrf import get_token
from wagtail.models import GroupApprovalTask, PageViewRestriction
from wagtail.permissions import page_permission_policy
from wagtail.signals import page_published, page_unpublished, post_page_move

from knowledge import personal
from knowledge.access import visibility_key
from knowledge.models import PageCacheGeneration

CACHE_ALIAS = "pages"
STATUS_HEADER = "X-Page-Cache"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# Where Django's {% csrf_token %} puts the token; stored pages hold a placeholder instead.
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# Session keys that make a member's page their own: pending messages (session storage) and
# pages unlocked by password.
_PERSONAL_SESSION_KEYS = ("_messages", PageViewRestriction.passed_view_restrictions_session_key)
# Keys an anonymous visitor's session may hold and still get the shared anonymous pages: each
# registered by the app that writes it (:func:`share_pages_despite_session_key`). Any other
# key (a login, messages, an unlocked page, a key added later) keeps the visitor out.
_PAGE_NEUTRAL_SESSION_KEYS: set[str] = set()
# Page permissions (besides "add": drafts of one's own pages) that make a user an editor.
_EDITOR_PERMISSIONS = frozenset({"change_page", "publish_page", "lock_page", "unlock_page",
                                 "bulk_delete_page"})
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


def cache_pages(view):
    """Serve ``view`` from the page cache to anonymous visitors and members, per viewer class."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        viewer = viewer_class(request)
        if viewer is None:
            return view(request, *args, **kwargs)
        key = _cache_key(request, viewer)
        store = caches[CACHE_ALIAS]
        entry = store.get(key)
        if entry is not None:
            return _fresh_copy(request, *entry)
        nonce = personal.start_capture(request)
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            # Http404 and friends: Django renders the error page after this returns.
            personal.stop_capture(request)
            raise

        def finish(rendered):
            body = rendered.content
            if request.method == "GET" and _cacheable_response(request, rendered, viewer):
                stored = _CSRF_VALUE.sub(rb"\1" + _CSRF_PLACEHOLDER + rb"\2", body)
                store.set(key, (rendered["Content-Type"], nonce, stored),
                          settings.KNOWLEDGE_PAGE_CACHE_SECONDS)
                rendered[STATUS_HEADER] = "miss"
            # Whether stored or not, this viewer gets their own personal parts.
            rendered.content = personal.fill(request, body, nonce)

        if hasattr(response, "add_post_render_callback") and not response.is_rendered:
            response.add_post_render_callback(finish)
        elif not response.streaming:
            finish(response)
        return response

    return cached_view


def cached_bytes(request, name: str, produce: Callable[[], bytes]) -> bytes:
    """``produce()``, reused for this request's viewer class until any content changes.

    For generated files that are not pages (the PDF Abschlussbericht, seconds of WeasyPrint
    per request): the same keys and invalidation as the page cache, so no viewer ever gets
    what another class of viewers may see, and an edit is visible at once.
    """
    viewer = viewer_class(request)
    if viewer is None:
        return produce()
    key = f"{_cache_key(request, viewer)}#{name}"
    if _stores_renders_of(request, viewer):
        return caches[CACHE_ALIAS].get_or_set(key, produce, settings.KNOWLEDGE_PAGE_CACHE_SECONDS)
    stored = caches[CACHE_ALIAS].get(key)
    return produce() if stored is None else stored


def viewer_class(request) -> str | None:
    """The class of viewers who share cached pages with this request, or None: no cache."""
    if settings.KNOWLEDGE_PAGE_CACHE_SECONDS <= 0 or request.method not in _SAFE_METHODS:
        return None
    if "HTTP_AUTHORIZATION" in request.META or getattr(request, "is_preview", False):
        return None
    if request.COOKIES.get("messages"):  # an emptied cookie holds no messages
        return None
    user = request.user
    if not user.is_authenticated:
        # Resolving the user has loaded the session already; an unknown cookie reads as empty.
        if not set(request.session.keys()) <= _PAGE_NEUTRAL_SESSION_KEYS:
            return None
        return "anonymous"
    if not settings.KNOWLEDGE_PAGE_CACHE_MEMBERS:
        return None
    # Reading keys neither consumes messages nor modifies the session.
    if any(key in request.session for key in _PERSONAL_SESSION_KEYS):
        return None
    if edits_or_moderates(user):
        return None
    return f"member:{visibility_key(user)}"


def share_pages_despite_session_key(key: str) -> None:
    """Declare that ``key`` in an anonymous visitor's session changes no cached view.

    Feedback, a vote on search results or a matching on /lernen/ gives an anonymous visitor a
    session; without this, every page they viewed afterwards was rendered for them alone.
    Only the app that writes a key knows that no cached view (pages, listings, the report)
    reads it. Such visitors get stored entries; their own renders are not stored.
    """
    _PAGE_NEUTRAL_SESSION_KEYS.add(key)


def edits_or_moderates(user) -> bool:
    """Superusers, anyone who may change every page below a section, publish, lock, or
    moderate (a Kommune member editing colleagues' drafts is none of these)."""
    if user.is_superuser:
        return True
    if not user.has_perm("wagtailadmin.access_admin"):
        return False  # no page permissions without admin access
    codenames = {permission.permission.codename for permission
                 in page_permission_policy.get_cached_permissions_for_user(user)}
    if codenames & _EDITOR_PERMISSIONS:
        return True
    return GroupApprovalTask.objects.filter(active=True, groups__user=user).exists()


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
    pre_migrate.connect(_migration_started, dispatch_uid="page-cache-pre-migrate")
    post_migrate.connect(_migration_finished, dispatch_uid="page-cache-post-migrate")


class _Migrating:
    """Whether ``migrate`` is running: the data migrations that create pages and snippets
    run before the token's table exists, so each renewal failed (a logged traceback per row
    on a fresh database). The token is renewed once when the migrations are done instead."""

    active = False


def _migration_started(**kwargs):
    _Migrating.active = True


def _migration_finished(**kwargs):
    # post_migrate is sent once per app after the whole plan: renew on the first only.
    if _Migrating.active:
        _Migrating.active = False
        # Migrated backwards past the token's table: nothing is cached against it then.
        with contextlib.suppress(DatabaseError), transaction.atomic():
            renew_token()


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
    renew_after_commit()


def _page_changed(sender, **kwargs):
    renew_after_commit()


def renew_after_commit():
    """Renew the token once the current transaction commits, with one statement per commit.

    After the commit: readers must not see the new token before the new content (they would
    cache the old content under it); robust, because the change itself is done. Renewed with
    the page cache off too: search keys its page facts by the same token.

    A publication sends a handful of signals and an import a dozen per page. Each change
    still queues its own callback, so whichever of them survives a savepoint rollback
    renews the token; the callbacks queued since the last renewal share one
    :class:`_Renewal`, and only the first of them to run writes.
    """
    if _Migrating.active:
        return
    renewal = getattr(_pending, "renewal", None)
    if renewal is None or renewal.done:
        renewal = _pending.renewal = _Renewal()
    transaction.on_commit(renewal.run, robust=True)


# Per thread, as Django's connections and so their transactions are.
_pending = Local()


class _Renewal:
    """The renewal the changes since the last one are waiting for."""

    def __init__(self):
        self.done = False

    def run(self):
        if not self.done:
            self.done = True
            renew_token()


def _cacheable_response(request, response, viewer: str) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if not _stores_renders_of(request, viewer):
        return False
    if any(word in response.get("Cache-Control", "") for word in ("private", "no-")):
        return False
    session = getattr(request, "session", None)
    messages = getattr(request, "_messages", None)
    return not (session is not None and session.modified) and not (
        messages is not None and messages.added_new
    )


def _stores_renders_of(request, viewer: str) -> bool:
    """Anonymous visitors with page-neutral session data get the shared entries, but only
    renders without any session data are stored: should a cached view ever show such a key,
    it would show it to its owner alone, never to everyone."""
    return not (viewer == "anonymous" and request.session.keys())


def _cache_key(request, viewer: str) -> str:
    token = PageCacheGeneration.objects.filter(pk=1).values_list("token", flat=True).first()
    return f"{token}:{viewer}:{request.scheme}://{request.get_host()}{request.get_full_path()}"


def _fresh_copy(request, content_type: str, nonce: str, body: bytes) -> HttpResponse:
    body = personal.fill(request, body, nonce)
    if _CSRF_PLACEHOLDER in body:
        # get_token also makes CsrfViewMiddleware set the matching cookie on this response.
        body = body.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(body, content_type=content_type)
    response[STATUS_HEADER] = "hit"
    return response
