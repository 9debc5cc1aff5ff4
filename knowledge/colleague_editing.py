"""Colleagues of one municipality edit each other's pages where they may draft.

Wagtail lets an account that may only add pages (the Kommune role) edit the pages it owns.
A lesson learned that one member of a municipality had drafted therefore stayed closed to the
colleague who took the project over (holiday, a change of post) until the Redaktion stepped
in. An account tied to a municipality (:class:`~knowledge.models.MunicipalityMember`) now also
edits that municipality's pages below a page where it may add pages, which for the Kommune
role means the sections Lessons Learned and Best Practices, not the projects of the Beratung,
and not a page restricted to groups the member is not in (the Redaktion may keep a page of
the municipality from its own staff; its owner keeps Wagtail's right to edit it).

Nothing else widens: publishing still goes through the Redaktion's workflow, and deleting a
draft stays with its owner, because an edit is a revision that can be reverted and a deletion
is not. Wagtail asks two places: the page's permission tester (editor, listings, userbar) and
the page permission policy (explorer, reports, editing sessions); both use this module.
"""

from __future__ import annotations

from django.db.models import Q
from wagtail.models import Page, PagePermissionTester
from wagtail.permissions import page_permission_policy

from knowledge.access import denied_path_prefixes
from knowledge.page_forms import own_municipality

ADD_CODENAME = "add_page"
_CACHE_ATTRIBUTE = "_colleague_municipality_id"


def colleague_municipality_id(user) -> int | None:
    """The municipality whose pages the user edits as a colleague, or None.

    Editors and moderators have none: they change every page anyway. Cached on the user
    object, as Wagtail caches its permissions, since listings ask once per page."""
    if not getattr(user, "is_active", False) or user.is_superuser:
        return None
    if not hasattr(user, _CACHE_ATTRIBUTE):
        municipality = own_municipality(user)
        setattr(user, _CACHE_ATTRIBUTE, municipality.pk if municipality is not None else None)
    return getattr(user, _CACHE_ATTRIBUTE)


def _drafting_roots(user) -> list[Page]:
    """The pages below which the user may add pages (Wagtail's cached permissions)."""
    return [perm.page for perm in page_permission_policy.get_cached_permissions_for_user(user)
            if perm.permission.codename == ADD_CODENAME]


def may_edit_as_colleague(user, page) -> bool:
    """Whether ``page`` belongs to the user's municipality and lies where the user drafts."""
    from knowledge.models import KnowledgePage

    municipality_id = colleague_municipality_id(user)
    if municipality_id is None:
        return False
    if not any(page.path.startswith(root.path) for root in _drafting_roots(user)):
        return False
    if any(page.path.startswith(prefix) for prefix in denied_path_prefixes(user)):
        return False
    if isinstance(page, KnowledgePage):
        return page.municipality_id == municipality_id
    return KnowledgePage.objects.filter(pk=page.pk, municipality_id=municipality_id).exists()


def colleague_pages(user):
    """The pages :func:`may_edit_as_colleague` allows, as one query of ``Page``."""
    from knowledge.models import KnowledgePage

    municipality_id = colleague_municipality_id(user)
    roots = _drafting_roots(user) if municipality_id is not None else []
    if not roots:
        return Page.objects.none()
    below, denied = Q(), Q()
    for root in roots:
        below |= Q(path__startswith=root.path)
    for prefix in denied_path_prefixes(user):
        denied |= Q(path__startswith=prefix)
    return Page.objects.filter(below, pk__in=KnowledgePage.objects.filter(
        municipality_id=municipality_id).values("pk")).exclude(denied)


class ColleaguePagePermissionTester(PagePermissionTester):
    """Wagtail's tester; a colleague's page of the user's municipality is editable too."""

    def can_edit(self):
        if super().can_edit():
            return True
        return not self.page_is_root and may_edit_as_colleague(self.user, self.page)
