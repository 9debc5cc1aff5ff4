"""The Redaktion may read the dashboard and maintain promoted search results.

Granted after every migrate (as ``knowledge.setup`` does for the role groups themselves), so a
fresh database and an existing one end up with the same rights.
"""

from django.contrib.auth.models import Group, Permission

REDAKTION_PERMISSIONS = (
    ("network", "view_querylog"),
    ("network", "view_feedback"),
    ("wagtailsearchpromotions", "add_searchpromotion"),
    ("wagtailsearchpromotions", "change_searchpromotion"),
    ("wagtailsearchpromotions", "delete_searchpromotion"),
)


def grant_redaktion_permissions(sender=None, **kwargs):
    group = Group.objects.filter(name="Redaktion").first()
    if group is None:
        return
    for app_label, codename in REDAKTION_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            group.permissions.add(permission)


def is_redaktion(user) -> bool:
    """May see all feedback and the dashboard (superusers and the group Redaktion)."""
    return bool(user.is_authenticated and user.has_perm("network.view_querylog"))
