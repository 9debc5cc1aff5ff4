"""No page of the site or the admin makes the browser ask a third party.

An avatar URL carries a hash of the user's e-mail address and every request the IP address;
a municipal knowledge base sends neither to services outside the operator's control. Wagtail
asks gravatar.com for avatars and wagtail.org for its latest release unless told not to
(knowledge/settings/base.py). The browser records every request, those made by scripts after
the page has loaded included.
"""

from urllib.parse import urlsplit

from tests.e2e.support import PASSWORD, admin_login

PATHS = ["/admin/", "/admin/account/", "/admin/pages/", "/admin/reports/aging-pages/", "/",
         "/suche/?q=E-Akte", "/lernen/", "/kommunen/lage/"]


def test_no_request_leaves_the_site(page, live_site, db_access):
    from django.contrib.auth import get_user_model

    own_host = urlsplit(live_site).netloc
    outside: list[str] = []

    def record(request):
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != own_host:
            outside.append(request.url)

    page.on("request", record)
    # A superuser: Wagtail shows the update check to superusers only.
    user = get_user_model().objects.create_superuser(
        "verwaltung", email="verwaltung@example.org", password=PASSWORD)
    try:
        admin_login(page, "verwaltung")
        for path in PATHS:
            response = page.goto(path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
    finally:
        user.delete()
    assert outside == []
