"""``{% personal "name" key=value %}``: a part of a page that belongs to the viewer.

See :mod:`knowledge.personal`: the part is rendered in place, or, while the page is rendered
for the shared page cache, replaced by a placeholder that every response fills per request.
"""

from django import template
from django.utils.safestring import mark_safe

from knowledge.personal import render_in_place

register = template.Library()


@register.simple_tag(takes_context=True)
def personal(context, name, **args):
    """The personal part ``name`` with ``args`` (numbers and strings of the page)."""
    return mark_safe(render_in_place(context, name, args))
