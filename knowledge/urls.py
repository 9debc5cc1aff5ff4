from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from knowledge import views
from network.urls import feed_urlpatterns
from search import matching_views
from search.api import api

app_urls = (
    [path("inhalte/", views.browse, name="browse")],
    "knowledge",
)

urlpatterns = [
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
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
