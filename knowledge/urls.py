import re

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.admin.viewsets.pages import page_viewset_registry
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from knowledge import views
from knowledge.admin_access import editors_only, explorable_only
from knowledge.page_cache import cache_pages
from network.urls import feed_urlpatterns
from search import matching_views
from search.api import api

app_urls = (
    [
        path("inhalte/", views.browse, name="browse"),
        # Browsing across municipalities (issue 15).
        path("kommunen/", views.municipality_list, name="municipalities"),
        path("kommunen/<slug:slug>/", views.municipality_profile, name="municipality"),
        path("uebersicht/", views.matrix, name="matrix"),
        path("zeitstrahl/", views.roadmap_comparison, name="roadmap_comparison"),
        path("abschlussbericht/<int:page_id>/", views.project_report, name="project_report"),
    ],
    "knowledge",
)

# Wagtail's reports that list other people's pages and edits: editors only (admin_access).
editor_report_urls = [
    path(f"admin/reports/{prefix}/{suffix}", editors_only(view.as_view(results_only=bool(suffix))))
    for prefix, view in (("site-history", LogEntriesView),
                         ("page-types-usage", PageTypesUsageReportView))
    for suffix in ("", "results/")
]

# An explorer page names its page: only for pages the user may explore (admin_access).
explorer_urls = [
    path("admin/pages/<int:parent_page_id>/", explorable_only(
        page_viewset_registry.as_view("index", parent_page_id_kwarg="parent_page_id"))),
    path("admin/pages/<int:parent_page_id>/results/", explorable_only(
        page_viewset_registry.as_view("index_results", parent_page_id_kwarg="parent_page_id"))),
]

urlpatterns = [
    *editor_report_urls,
    *explorer_urls,
    path("admin/", include(wagtailadmin_urls)),
    path("dokumente/", include(wagtaildocs_urls)),
    path("anmelden/", auth_views.LoginView.as_view(template_name="knowledge/login.html"),
         name="login"),
    path("abmelden/", auth_views.LogoutView.as_view(), name="logout"),
    path("sitemap.xml", sitemap),
    path("", include(app_urls)),
    path("suche/", include("search.urls")),
    path("lernen/", matching_views.match_page, name="match"),
    path("api/v1/", api.urls),
    path("netz/", include("network.urls")),
    path("feeds/", include(feed_urlpatterns)),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
if settings.DEBUG or getattr(settings, "KNOWLEDGE_SERVE_IMAGES", False):
    from django.views.static import serve

    # Images only: documents go through Wagtail's serve view and its privacy check
    # (attachments.serving), never as plain media files. In production a proxy serves them.
    for folder in ("images", "original_images"):
        urlpatterns.append(re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}{folder}/(?P<path>.*)$", serve,
            {"document_root": settings.MEDIA_ROOT / folder}))

# Wagtail's own URLs, with its page view behind the page cache.
urlpatterns += [
    *(pattern for pattern in wagtail_urls.urlpatterns if pattern.name != "wagtail_serve"),
    re_path(wagtail_urls.serve_pattern, cache_pages(wagtail_views.serve),
            name="wagtail_serve"),
]
