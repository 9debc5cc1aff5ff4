"""Audit log of security-relevant events: logins (and failures), logouts, publishing.

Written to the logger ``knowledge.audit`` as one line per event with stable ``key=value``
fields, so that operators can ship it to their SIEM. Wagtail's own admin log keeps the
editorial history; this log adds what Wagtail does not record (logins, failed logins) and puts
everything in one stream. Passwords and session keys are never logged.
"""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete
from wagtail.signals import page_published, page_unpublished

logger = logging.getLogger("knowledge.audit")


def _client_ip(request) -> str:
    if request is None:
        return "-"
    return request.META.get("REMOTE_ADDR", "-")


def _on_login(sender, request, user, **kwargs):
    logger.info("event=login user=%s ip=%s", user.get_username(), _client_ip(request))


def _on_logout(sender, request, user, **kwargs):
    name = user.get_username() if user is not None else "-"
    logger.info("event=logout user=%s ip=%s", name, _client_ip(request))


def _on_login_failed(sender, credentials, request=None, **kwargs):
    logger.warning("event=login_failed user=%s ip=%s",
                   str(credentials.get("username", "-"))[:150], _client_ip(request))


def _on_published(sender, instance, revision=None, **kwargs):
    user = getattr(revision, "user", None) if revision is not None else None
    logger.info("event=page_published page=%s type=%s user=%s title=%r", instance.pk,
                sender.__name__, user.get_username() if user else "-", instance.title[:120])


def _on_unpublished(sender, instance, **kwargs):
    logger.info("event=page_unpublished page=%s type=%s title=%r", instance.pk, sender.__name__,
                instance.title[:120])


def _on_deleted(sender, instance, **kwargs):
    from knowledge.models import KnowledgePage

    if isinstance(instance, KnowledgePage):
        logger.info("event=page_deleted page=%s type=%s title=%r", instance.pk,
                    type(instance).__name__, instance.title[:120])


def connect():
    user_logged_in.connect(_on_login, dispatch_uid="audit-login")
    user_logged_out.connect(_on_logout, dispatch_uid="audit-logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit-login-failed")
    page_published.connect(_on_published, dispatch_uid="audit-published")
    page_unpublished.connect(_on_unpublished, dispatch_uid="audit-unpublished")
    post_delete.connect(_on_deleted, dispatch_uid="audit-deleted")
