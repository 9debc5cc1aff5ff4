"""Admin integration: the dashboard's reports in Wagtail's "Berichte" menu."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from network import reports
from network.index_health import add_search_index_panel
from network.roles import is_redaktion

REPORTS = [
    ("suchanfragen/", "queries", reports.QueryReportView),
    ("rueckmeldungen/", "feedback", reports.FeedbackReportView),
    ("seiten-feedback/", "page_feedback", reports.PageFeedbackReportView),
    ("aktualitaet/", "review", reports.ReviewReportView),
    ("luecken/", "gaps", reports.GapReportView),
]


def _report_urls():
    urls = []
    for route, name, view in REPORTS:
        urls.append(path(route, view.as_view(), name=name))
        urls.append(path(f"{route}ergebnisse/", view.as_view(results_only=True),
                         name=f"{name}_results"))
    return urls


@hooks.register("register_admin_urls")
def register_network_report_urls():
    return [path("netz/", include((_report_urls(), "network_reports"),
                                  namespace="network_reports"))]


class RedaktionMenuItem(MenuItem):
    def is_shown(self, request):
        return is_redaktion(request.user)


def _item(cls, label, name, icon, order):
    return cls(label, reverse(f"network_reports:{name}"), name=f"network-{name}",
               icon_name=icon, order=order)


@hooks.register("register_reports_menu_item")
def queries_menu_item():
    return _item(RedaktionMenuItem, _("Suchanfragen"), "queries", "search", 50)


@hooks.register("register_reports_menu_item")
def feedback_menu_item():
    # every editor: the report itself limits non-Redaktion users to their own pages
    return _item(MenuItem, _("Rückmeldungen"), "feedback", "comment", 51)


@hooks.register("register_reports_menu_item")
def page_feedback_menu_item():
    return _item(MenuItem, _("Seiten mit „nicht hilfreich“"), "page_feedback",
                 "warning", 52)


@hooks.register("register_reports_menu_item")
def review_menu_item():
    return _item(RedaktionMenuItem, _("Aktualität prüfen"), "review", "time", 53)


@hooks.register("register_reports_menu_item")
def gaps_menu_item():
    return _item(RedaktionMenuItem, _("Themen und Kommunen ohne neues Material"), "gaps",
                 "folder-open-inverse", 54)


hooks.register("construct_homepage_panels", add_search_index_panel)
