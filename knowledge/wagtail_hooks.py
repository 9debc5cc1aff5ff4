"""Admin registration: municipalities and topics as snippets, grouped under one menu item;
what members who only draft their own pages see of the tree (:mod:`knowledge.admin_access`)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from knowledge.admin_access import EDITOR_REPORTS, admin_visible_pages
from knowledge.models import Municipality, MunicipalityMember, Topic
from knowledge.page_cache import edits_or_moderates


class MunicipalityViewSet(SnippetViewSet):
    model = Municipality
    icon = "site"
    list_display = ["name", "kind", "district", "population"]
    list_filter = ["kind", "district"]
    search_fields = ["name"]


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class MunicipalityMemberViewSet(SnippetViewSet):
    model = MunicipalityMember
    icon = "user"
    list_display = ["user", "municipality"]
    list_filter = ["municipality"]


class MasterDataGroup(SnippetViewSetGroup):
    menu_label = _("Stammdaten")
    menu_icon = "folder-open-inverse"
    menu_order = 300
    items = (MunicipalityViewSet, TopicViewSet, MunicipalityMemberViewSet)


register_snippet(MasterDataGroup)


@hooks.register("construct_page_chooser_queryset")
def chooser_pages(pages, request):
    return admin_visible_pages(pages, request.user)


@hooks.register("construct_reports_menu")
def editor_reports(request, menu_items):
    if not edits_or_moderates(request.user):
        menu_items[:] = [item for item in menu_items if item.name not in EDITOR_REPORTS]
