"""Personal parts of shared pages: what differs per user inside a page that a class shares.

Why: the page cache (:mod:`knowledge.page_cache`) hands one stored body to every viewer of a
visibility class, so nothing in that body may belong to one user. Templates mark the parts
that do with ``{% personal "name" key=value %}`` (``knowledge/templatetags/personal_parts``):

- ``account``: the header's "Benachrichtigungen" link, "Angemeldet als …" and the logout form
  with its CSRF token (for anonymous visitors: the "Anmelden" link);
- ``messages``: Django messages (a request with pending messages is never served from the
  cache; marking the part keeps a message added during the render out of the stored body);
- ``follow``: "Projekt … folgen", or "Sie folgen dem Projekt" with "Nicht mehr folgen";
- ``userbar``: Wagtail's userbar, which shows members with admin access (group Kommune) the
  edit link of the pages they may edit (their own and, tied to a municipality, its pages).

A normal render includes the part's template in place. A render for the cache writes a
placeholder instead (the part's name and its arguments, which belong to the page and so to
the class), and every response built from that body, the miss itself included, gets each
placeholder replaced by the part rendered for the request's own user. Parts see only their
arguments and the request (user, CSRF token, messages), never the page's context, so the two
ways of rendering give the same result. A placeholder carries a nonce chosen per stored body:
page content cannot forge one.
"""

from __future__ import annotations

import base64
import json
import secrets

from django.template.loader import get_template, render_to_string

PARTS = {
    "account": "includes/account.html",
    "messages": "network/messages.html",
    "follow": "network/follow.html",
    "userbar": "includes/userbar.html",
}
_NONCE_ATTRIBUTE = "_personal_parts_nonce"


def start_capture(request) -> str:
    """From now on this request's render writes placeholders; returns the body's nonce."""
    nonce = secrets.token_hex(8)
    setattr(request, _NONCE_ATTRIBUTE, nonce)
    return nonce


def stop_capture(request) -> None:
    """Render the personal parts in place again: for an error page that replaces the view's
    response (a 404 raised in the view), which nothing would fill."""
    if hasattr(request, _NONCE_ATTRIBUTE):
        delattr(request, _NONCE_ATTRIBUTE)


def render_in_place(context, name: str, args: dict) -> str:
    """The part for the template tag: a placeholder while capturing, else the part itself."""
    request = context.get("request")
    nonce = getattr(request, _NONCE_ATTRIBUTE, None)
    if nonce is not None:
        payload = base64.urlsafe_b64encode(json.dumps([name, args]).encode()).decode()
        return f"\x00{nonce}:{payload}\x00"
    with context.push(**args):
        return get_template(PARTS[name]).template.render(context)


def fill(request, body: bytes, nonce: str) -> bytes:
    """``body`` with each placeholder of ``nonce`` replaced by the part for this request."""
    marker = f"\x00{nonce}:".encode()
    if marker not in body:
        return body
    pieces = body.split(marker)
    filled = [pieces[0]]
    for piece in pieces[1:]:
        payload, _separator, rest = piece.partition(b"\x00")
        name, args = json.loads(base64.urlsafe_b64decode(payload))
        filled += [_render_part(request, name, args).encode(), rest]
    return b"".join(filled)


def _render_part(request, name: str, args: dict) -> str:
    context = dict(args)
    if name == "userbar":
        context["page"] = _userbar_page(request, args.get("page_id"))
    return render_to_string(PARTS[name], context, request=request)


def _userbar_page(request, page_id):
    # Wagtail's userbar renders nothing without admin access: load the page only for those
    # who see it.
    if not page_id or not request.user.has_perm("wagtailadmin.access_admin"):
        return None
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    return page.specific if page is not None else None
