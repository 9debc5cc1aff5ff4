"""Colleagues of one municipality edit each other's pages where they may draft.

Wagtail lets an account that may only add pages (the Kommune role) edit the pages it owns.
A lesson learned that one member of a municipality had drafted therefore stayed closed to the
colleague who took the project over (holiday, a change of post) until the Redaktion stepped
in. An account tied to a municipality (:class:`~knowledge.models.MunicipalityMember`) now also
edits that municipality's pages that lie strictly below a page where it may add pages and
under a moderation workflow: for the Kommune role the sections Lessons Learned and Best
Practices, not the projects of the Beratung (which have no workflow, so an unreviewed draft
could go live with the next publication there). Not included: aliases, and pages the member
may not view (restricted to other groups, or protected by a password); their owner keeps
Wagtail's right to edit them.

Nothing else widens: publishing still goes through the Redaktion's workflow; deleting and
copying a page stay with its owner, because an edit is a revision that can be reverted and a
deletion or a copy elsewhere is not. Which pages qualify is decided by the database rows
(path, municipality, privacy), once per request; the version being edited must belong to the
municipality too, so an old revision from before the Redaktion refiled a page under another
municipality cannot be restored by its former colleagues. Wagtail asks two places: the page's
permission tester (editor, revisions, previews, userbar, editing sessions) and the page
permission policy (explorer, choosers, reports); both use this module.
"""

from __future__ import annotations

from django.db.models import Q
from wagtail.models import Page, PagePermissionTester, WorkflowPage
from wagtail.permissions import page_permission_policy

from knowledge.access import denied_path_prefixes
from knowledge.page_forms import own_municipality

ADD_CODENAME = "add_page"
_MUNICIPALITY_CACHE = "_colleague_municipality_id"
_PAGES_CACHE = "_colleague_page_ids"


def colleague_municipality_id(user) -> int | None:
    """The municipality whose pages the user edits as a colleague, or None.

    Editors and moderators have none: they change every page anyway. Cached on the user
    object, which Django builds per request, as Wagtail caches its permissions there."""
    if not getattr(user, "is_active", False) or user.is_superuser:
        return None
    if not hasattr(user, _MUNICIPALITY_CACHE):
        municipality = own_municipality(user)
        setattr(user, _MUNICIPALITY_CACHE, municipality.pk if municipality is not None else None)
    return getattr(user, _MUNICIPALITY_CACHE)


def colleague_pages(user):
    """The pages the user edits as a colleague (see the module docstring), one ``Page`` query."""
    from knowledge.models import KnowledgePage

    municipality_id = colleague_municipality_id(user)
    if municipality_id is None:
        return Page.objects.none()
    roots = [perm.page for perm in page_permission_policy.get_cached_permissions_for_user(user)
             if perm.permission.codename == ADD_CODENAME]
    moderated = WorkflowPage.objects.filter(workflow__active=True).values_list(
        "page__path", flat=True)
    if not roots or not moderated:
        return Page.objects.none()
    below_roots, under_workflow, denied = Q(), Q(), Q()
    for root in roots:
        below_roots |= Q(path__startswith=root.path, depth__gt=root.depth)
    for path in moderated:
        under_workflow |= Q(path__startswith=path)
    for prefix in denied_path_prefixes(user):
        denied |= Q(path__startswith=prefix)
    return (Page.objects.filter(below_roots, under_workflow, alias_of__isnull=True,
                                pk__in=KnowledgePage.objects.filter(
                                    municipality_id=municipality_id).values("pk"))
            .exclude(denied))


def colleague_page_ids(user) -> frozenset[int]:
    """The ids of :func:`colleague_pages`, read once per request (cached on the user object):
    the tester asks for every listed page, the policy for each admin view."""
    if colleague_municipality_id(user) is None:
        return frozenset()
    if not hasattr(user, _PAGES_CACHE):
        setattr(user, _PAGES_CACHE,
                frozenset(colleague_pages(user).values_list("pk", flat=True)))
    return getattr(user, _PAGES_CACHE)


def may_edit_as_colleague(user, page) -> bool:
    """Whether the user edits ``page`` (a page or a revision of one) as a colleague."""
    municipality_id = colleague_municipality_id(user)
    if page.pk not in colleague_page_ids(user):
        return False
    # The version at hand (the latest draft, or a revision to restore) must agree with the
    # row. A deferred field would be read from the row, which the id set has already checked
    # (and reading it would cost a query per listed page).
    if "municipality_id" in page.get_deferred_fields():
        return True
    return getattr(page, "municipality_id", municipality_id) == municipality_id


class ColleaguePagePermissionTester(PagePermissionTester):
    """Wagtail's tester; a colleague's page of the user's municipality is editable too."""

    def can_edit(self):
        if super().can_edit():
            return True
        return not self.page_is_root and may_edit_as_colleague(self.user, self.page)

    def can_copy(self):
        """Copying stays with Wagtail's own rule (the owner, or who may change any page)."""
        return super().can_edit()
