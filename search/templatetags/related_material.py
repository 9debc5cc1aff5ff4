"""The one interface through which knowledge pages show material found by the search engine.

Page models know nothing about ``search``: their templates ask these tags, so the content
domain does not import the engine (which imports the content domain), and the lists are only
computed where a template actually shows them. Both read stored vectors only, never the model.
"""

from __future__ import annotations

from django import template

from search.params import setting
from search.related import project_matches, related_pages

register = template.Library()


def _viewer(context):
    request = context.get("request")
    return request, getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def related_material(context, page, exclude=None):
    """"Das haben andere Kommunen dazu gelernt": pages of other municipalities like ``page``.

    ``exclude``: items a list above already shows (a project page's matches, computed from
    nearly the same vectors, shared two to five of their five links with this list); the
    list is filled up with the next pages instead.
    """
    request, user = _viewer(context)
    shown = {item.page_id for item in exclude or ()}
    if not shown:
        return related_pages(page, user=user, request=request)
    limit = int(setting("KNOWLEDGE_RELATED_COUNT", 5))
    items = related_pages(page, user=user, request=request, limit=limit + len(shown))
    return [item for item in items if item.page_id not in shown][:limit]


@register.simple_tag(takes_context=True)
def project_material(context, project):
    """Material of other municipalities that fits a project as a whole (its goals, summary)."""
    request, user = _viewer(context)
    return project_matches(project, user=user, request=request)
