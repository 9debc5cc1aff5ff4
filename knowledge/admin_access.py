"""What the Wagtail admin shows members who only draft their own pages (the Kommune role).

Wagtail lists a page in its explorer and choosers as soon as the user may add pages next to
it, and its page-chooser shows the whole tree: a Kommune member read the titles of other
municipalities' unpublished (and rejected) drafts and of pages restricted to other groups,
and the site history told who rejected what. In the admin a member now sees the pages they
may view on the site plus the pages they may edit; the two reports that list other people's
pages and edits are for editors only (:func:`knowledge.page_cache.edits_or_moderates`).
"""

from __future__ import annotations

from functools import wraps

from django.db.models import Q
from wagtail.admin.auth import permission_denied
from wagtail.permission_policies.pages import PagePermissionPolicy

from knowledge.access import viewable_pages
from knowledge.page_cache import edits_or_moderates

# Reports (menu item names) that list other people's pages or their edits.
EDITOR_REPORTS = ("site-history", "page-types-usage")


def admin_visible_pages(pages, user):
    """``pages`` narrowed to live pages the user may view and pages the user may edit."""
    if user.is_superuser:
        return pages
    editable = PagePermissionPolicy().instances_user_has_any_permission_for(
        user, ["change", "publish"])
    return pages.filter(Q(pk__in=viewable_pages(user).values("pk"))
                        | Q(pk__in=editable.values("pk")))


def editors_only(view):
    """The view for editors and moderators; everyone else gets Wagtail's refusal."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not edits_or_moderates(request.user):
            return permission_denied(request)
        return view(request, *args, **kwargs)
    return wrapper
