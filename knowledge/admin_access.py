"""What the Wagtail admin shows members who only draft their own pages (the Kommune role).

Wagtail lists a page in its explorer and choosers as soon as the user may add pages next to
it, and its page-chooser shows the whole tree: a Kommune member read the titles of other
municipalities' unpublished (and rejected) drafts and of pages restricted to other groups,
and the site history told who rejected what. In the admin a member now sees the pages they
may view on the site plus the pages they may edit: Wagtail's explorer, its page search, its
admin API and an explorer page's own header all ask the page permission policy which pages
the user may explore (:class:`MemberPagePermissionPolicy`), the choosers ask a hook. The two
reports that list other people's pages and edits are for editors only
(:func:`knowledge.page_cache.edits_or_moderates`).
"""

from __future__ import annotations

from functools import wraps

from django.db.models import Q
from django.http import Http404
from wagtail.admin.auth import permission_denied
from wagtail.models import AbstractPage, Page
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.permissions import policy_registry

from knowledge.access import viewable_pages
from knowledge.colleague_editing import colleague_page_ids, may_edit_as_colleague
from knowledge.page_cache import edits_or_moderates

# Reports (menu item names) that list other people's pages or their edits.
EDITOR_REPORTS = ("site-history", "page-types-usage")


def admin_visible_pages(pages, user):
    """``pages`` narrowed to live pages the user may view and pages the user may edit."""
    if user.is_superuser:
        return pages
    editable = MemberPagePermissionPolicy().instances_user_has_any_permission_for(
        user, ["change", "publish"])
    return pages.filter(Q(pk__in=viewable_pages(user).values("pk"))
                        | Q(pk__in=editable.values("pk")))


class MemberPagePermissionPolicy(PagePermissionPolicy):
    """Wagtail's page policy, exploring only what :func:`admin_visible_pages` allows; a
    colleague's page of the user's municipality counts as changeable
    (:mod:`knowledge.colleague_editing`), as in the page's own permission tester.

    ``users_with_any_permission_for_instance`` keeps Wagtail's answer (colleagues are not
    listed): nothing in Wagtail 8 asks it for pages."""

    def explorable_instances(self, user):
        return admin_visible_pages(super().explorable_instances(user), user)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if super().user_has_any_permission_for_instance(user, actions, instance):
            return True
        return "change" in actions and may_edit_as_colleague(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        pages = super().instances_user_has_any_permission_for(user, actions)
        if "change" not in actions or self._base_queryset_for_user(user) is not None:
            return pages
        return pages | self.model._default_manager.filter(pk__in=colleague_page_ids(user))


def register_page_policy():
    """Replace Wagtail's page permission policy (looked up per request by every admin view)."""
    policy_registry.register(AbstractPage, MemberPagePermissionPolicy(Page))


def explorable_only(view):
    """The explorer of one page: its header names the page, so not for pages the user may
    not explore (Wagtail only checks that the page lies below the user's explorer root and
    sends pages above it there, which stays as it is)."""
    @wraps(view)
    def wrapper(request, *args, parent_page_id, **kwargs):
        user = request.user
        if user.is_authenticated and not user.is_superuser:
            policy = policy_registry.get_by_type(Page)
            root = policy.explorable_root_instance(user)
            page = Page.objects.filter(pk=parent_page_id).first()
            if (root is not None and page is not None and page.path.startswith(root.path)
                    and not policy.explorable_instances(user).filter(pk=page.pk).exists()):
                raise Http404
        return view(request, *args, parent_page_id=parent_page_id, **kwargs)
    return wrapper


def editors_only(view):
    """The view for editors and moderators; everyone else gets Wagtail's refusal."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not edits_or_moderates(request.user):
            return permission_denied(request)
        return view(request, *args, **kwargs)
    return wrapper
