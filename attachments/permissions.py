"""Who may choose which document in the admin: not every title of every file.

Wagtail lets a group with the "choose" permission on a collection pick any document in it, and
its chooser lists their titles and file names. Members who may only upload (Kommune) would
read there the names of files used only on pages they may not view (a restricted protocol's
attachment), and could put such a file on a page of their own. Here a user without the
"change" permission on any collection chooses only their own uploads and the files of live
pages they may view; editors who manage documents (Beratung, Redaktion) keep Wagtail's rule.
"""

from __future__ import annotations

from django.db.models import Q
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy


class DocumentPermissionPolicy(CollectionOwnershipPermissionPolicy):
    """Wagtail's policy for documents, with "choose" narrowed for members who only upload."""

    def _narrows_choice(self, user, actions) -> bool:
        return ("choose" in actions and user.is_authenticated and not user.is_superuser
                and not self._check_perm(user, ["change"]))

    def _choosable(self, user) -> Q:
        from attachments.models import PageDocument
        from knowledge.access import viewable_pages

        used_on_viewable_pages = PageDocument.objects.filter(
            page_id__in=viewable_pages(user).values("pk")).values("document_id")
        return Q(**{self.owner_field_name: user}) | Q(pk__in=used_on_viewable_pages)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self._narrows_choice(user, actions):
            return super().instances_user_has_any_permission_for(user, actions)
        choosable = super().instances_user_has_any_permission_for(user, ["choose"]).filter(
            self._choosable(user))
        others = [action for action in actions if action != "choose"]
        if not others:
            return choosable
        return choosable | super().instances_user_has_any_permission_for(user, others)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if not self._narrows_choice(user, actions):
            return super().user_has_any_permission_for_instance(user, actions, instance)
        others = [action for action in actions if action != "choose"]
        if others and super().user_has_any_permission_for_instance(user, others, instance):
            return True
        return (super().user_has_any_permission_for_instance(user, ["choose"], instance)
                and type(instance)._default_manager.filter(
                    self._choosable(user), pk=instance.pk).exists())


def register() -> None:
    """Replace Wagtail's document policy (registered for the exact model, which wins)."""
    from wagtail.documents import get_document_model, get_document_model_string
    from wagtail.permissions import register_permission_policy

    register_permission_policy(
        get_document_model(),
        DocumentPermissionPolicy(get_document_model_string(),
                                 auth_model="wagtaildocs.Document",
                                 owner_field_name="uploaded_by_user"),
        exact_class=True,
    )
