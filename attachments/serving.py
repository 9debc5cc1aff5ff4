"""Who may download a file: the privacy of the pages that use it.

Wagtail serves documents by their collection's privacy only, so a protocol restricted to
members would still hand out its attachment to anyone with the URL. The
``before_serve_document`` hook (:mod:`attachments.wagtail_hooks`) asks :func:`check_download`:

- a file used by a live page may be fetched by whoever may view one of those pages,
  decided by Wagtail's own view restrictions of the page and its ancestors
  (``accept_request``: login, groups, and a page password already entered in the session),
  and by nobody else: not even by people who manage documents in the admin, because the
  page's privacy is what its authors chose;
- a file no live page uses (uploaded for a draft) may be fetched by the people who manage
  it in the admin (Wagtail's "change" permission on it, which the uploader has too), so a
  draft can be checked before publishing, and by a colleague who took the draft over
  (:func:`may_fetch_for_drafts`);
- anyone else gets 404 for a file no live page uses, a login redirect when logging in
  could help, the page itself when only its password stands in the way (Wagtail asks for it
  there, and the session then opens the file too), and 403 otherwise.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.loader import render_to_string
from wagtail.models import PageViewRestriction

from knowledge.access import refused_restrictions


def _pages_using(document):
    from knowledge.models import KnowledgePage

    return KnowledgePage.objects.live().filter(document_links__document=document)


def may_manage(user, document) -> bool:
    return bool(user and user.is_authenticated and document_policy()
                .user_has_permission_for_instance(user, "change", document))


def may_fetch_for_drafts(user, document) -> bool:
    """A colleague who took over a municipality's draft checks the files it uses.

    Only when every page that refers to the file (Wagtail's reference index of the page rows,
    which for a page never published hold its draft) is one the user may edit, and belongs
    to the municipality of the account that uploaded the file. A reference typed into a
    draft of one's own therefore opens neither another municipality's unpublished file nor
    one that a page closed to the user uses as well."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page, ReferenceIndex

    from knowledge.models import KnowledgePage, MunicipalityMember

    if not user.is_authenticated or document.uploaded_by_user_id is None:
        return False
    uploader = MunicipalityMember.objects.filter(
        user_id=document.uploaded_by_user_id).values_list("municipality_id", flat=True).first()
    if uploader is None:
        return False
    page_ids = {int(pk) for pk in ReferenceIndex.get_references_to(document).filter(
        base_content_type=ContentType.objects.get_for_model(Page)).values_list(
        "object_id", flat=True)}
    pages = list(KnowledgePage.objects.filter(pk__in=page_ids))
    return (bool(pages) and len(pages) == len(page_ids)
            and all(page.municipality_id == uploader
                    and page.permissions_for_user(user).can_edit() for page in pages))


def check_download(document, request):
    """The hook: None lets Wagtail serve the file, a response refuses it."""
    pages = list(_pages_using(document))
    if not pages:
        if may_manage(request.user, document) or may_fetch_for_drafts(request.user, document):
            return None
        raise Http404("Dokument nicht gefunden")
    refusals = []
    for page in pages:  # the first page the request may view opens the file
        kinds = refused_restrictions(request, page)
        if not kinds:
            return None
        refusals.append((page, kinds))
    password = PageViewRestriction.PASSWORD
    if not request.user.is_authenticated and any(password not in kinds
                                                 for _page, kinds in refusals):
        return redirect_to_login(request.get_full_path())
    for page, kinds in refusals:
        if set(kinds) == {password}:
            return redirect(page.url)
    return HttpResponseForbidden(render_to_string("attachments/forbidden.html", request=request))


def document_policy():
    """Wagtail's permission policy for documents (collection permissions)."""
    from wagtail.documents import get_document_model
    from wagtail.permissions import policy_registry

    return policy_registry.get_by_type(get_document_model())
