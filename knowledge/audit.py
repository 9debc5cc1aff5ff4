"""Audit log of security-relevant events: logins (and failures), logouts, and who published,
unpublished, deleted, moved, approved, rejected or changed the privacy of a page.

Written to the logger ``knowledge.audit`` as one line per event with stable ``key=value``
fields, so that operators can ship it to their SIEM. Wagtail's own admin log keeps the
editorial history; this log adds what Wagtail does not record (logins, failed logins) and puts
everything in one stream. Passwords and session keys are never logged.
"""

import logging
from contextvars import ContextVar

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_save
from wagtail.models import PageLogEntry

logger = logging.getLogger("knowledge.audit")


def client_address(request) -> str:
    """The client's address as the server saw it (``REMOTE_ADDR``), ``"-"`` if unknown.

    The one place that reads it: the audit log names it, and the rate limits of feedback,
    clicks and matching count per it. Never a client-supplied ``X-Forwarded-For``: a script
    could claim a new address with every request; behind a proxy, the proxy sets it.
    """
    return client_ip(request) or "-"


def client_ip(request) -> str | None:
    """:func:`client_address` for code that stores it as an IP address (django-axes): None
    when unknown (a login without a request, such as a test's ``force_login``)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _on_login(sender, request, user, **kwargs):
    logger.info("event=login user=%s ip=%s", user.get_username(), client_address(request))


def _on_logout(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else "-"
    logger.info("event=logout user=%s ip=%s", name, client_address(request))


def _on_login_failed(sender, credentials, request=None, **kwargs):
    logger.warning("event=login_failed user=%s ip=%s",
                   str(credentials.get("username", "-"))[:150], client_address(request))


# Wagtail's log actions that change who can read what, by whose hand: event names of this log.
PAGE_EVENTS = {
    "wagtail.publish": "page_published",
    "wagtail.publish.scheduled": "page_published",
    "wagtail.unpublish": "page_unpublished",
    "wagtail.unpublish.scheduled": "page_unpublished",
    "wagtail.delete": "page_deleted",
    "wagtail.move": "page_moved",
    "wagtail.view_restriction.create": "page_privacy_changed",
    "wagtail.view_restriction.edit": "page_privacy_changed",
    "wagtail.view_restriction.delete": "page_privacy_changed",
    "wagtail.workflow.approve": "page_approved",
    "wagtail.workflow.reject": "page_rejected",
}

# The address of the request being served, for page events (they carry no request).
_request_address: ContextVar[str] = ContextVar("knowledge_audit_address", default="-")


class RequestAddressMiddleware:
    """Remembers the client address of the running request for the page events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_address.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _request_address.reset(token)


def _on_log_entry(sender, instance, created, raw=False, **kwargs):
    """One line per page event, from Wagtail's own log entry: it names the acting user (who
    approved a submission, not who wrote it), and one deletion is one entry however many
    tables the page spans. Written after the commit: a rolled-back change left no trace.
    Rows loaded as they are (``raw``: fixtures, a restored snapshot) are history, not events."""
    event = PAGE_EVENTS.get(instance.action)
    if raw or not created or event is None:
        return
    user = instance.user.get_username() if instance.user_id and instance.user else "-"
    page_type = (ContentType.objects.get_for_id(instance.content_type_id).model_class()
                 if instance.content_type_id else None)
    line = ("event=%s user=%s ip=%s page=%s type=%s action=%s title=%r",
            event, user, _request_address.get(), instance.page_id,
            page_type.__name__ if page_type else "-", instance.action, instance.label[:120])
    transaction.on_commit(lambda: logger.info(*line))


def connect():
    user_logged_in.connect(_on_login, dispatch_uid="audit-login")
    user_logged_out.connect(_on_logout, dispatch_uid="audit-logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit-login-failed")
    post_save.connect(_on_log_entry, sender=PageLogEntry, dispatch_uid="audit-page-events")
