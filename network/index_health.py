"""The dashboard panel "Suchindex": pages the search does not find, for the Redaktion.

Search, "Von anderen lernen" and related material reach a page through its passages. A page
whose indexing failed, that waits for a task worker that is down, or that was indexed with
another model than the configured one is missing there, and nobody notices: the operators
have ``rebuild_search_index --check``, the Redaktion has the dashboard. The panel appears
only when there is something to report.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import ngettext
from wagtail.admin.ui.components import Component

from network.roles import is_redaktion
from search.embedding import configured_model_id
from search.indexing.state import unsearchable_pages
from search.models import PageIndexState

# A page published a moment ago is pending until the task queue has indexed it (seconds with
# a running worker); only one still pending after this long is reported.
PENDING_GRACE = dt.timedelta(minutes=15)
LISTED = 10


def reason(page, model_id: str) -> str:
    """Why the page is not found, in the Redaktion's words."""
    state = getattr(page, "index_state", None)
    if state is None:
        return "noch nie in den Suchindex aufgenommen"
    if state.status == PageIndexState.Status.FAILED:
        return "Aufnahme in den Suchindex fehlgeschlagen"
    if state.status == PageIndexState.Status.PENDING:
        return "wartet seit " + timezone.template_localtime(state.updated_at).strftime(
            "%d.%m.%Y, %H:%M Uhr")
    return "mit einem anderen Sprachmodell indexiert als dem eingestellten"


class SearchIndexPanel(Component):
    name = "search_index"
    template_name = "network/admin/search_index_panel.html"
    order = 150  # below Wagtail's site summary, above the moderation and edit lists

    def __init__(self, pages: list, total: int, model_id: str):
        self.pages, self.total, self.model_id = pages, total, model_id

    def get_context_data(self, parent_context=None):
        return {
            "heading": ngettext("Suchindex: %(n)d Seite wird nicht gefunden",
                                "Suchindex: %(n)d Seiten werden nicht gefunden",
                                self.total) % {"n": self.total},
            "rows": [(page, reason(page, self.model_id)) for page in self.pages],
            "more": self.total - len(self.pages),
        }


def add_search_index_panel(request, panels) -> None:
    """The panel for the Redaktion, when pages are missing from the index."""
    if not is_redaktion(request.user):
        return
    model_id = configured_model_id()
    pages = unsearchable_pages(model_id, settled_before=timezone.now() - PENDING_GRACE)
    total = pages.count()
    if total:
        panels.append(SearchIndexPanel(list(pages[:LISTED]), total, model_id))
