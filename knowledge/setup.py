"""Idempotent set-up of the site skeleton, the editorial roles and the moderation workflow.

Runs after every ``migrate`` (post_migrate signal, see apps.py) and via ``manage.py setup_roles``,
so a fresh database, the test database and an upgraded installation all end in the same state.
Existing custom changes by administrators (extra permissions, renamed pages) are kept: this
code only adds what is missing, and retires Wagtail's stock moderation set-up, which would
otherwise lock pages nobody can release (:func:`retire_wagtail_defaults`).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

REDAKTION = "Redaktion"
BERATUNG = "Beratung"
KOMMUNE = "Kommune"

SECTIONS = [
    ("ProjectIndexPage", "Projekte", "projekte",
     "<p>Digitalisierungsprojekte der Mitgliedskommunen mit ihren Sitzungsprotokollen.</p>"),
    ("LessonLearnedIndexPage", "Lessons Learned", "lessons-learned",
     "<p>Was Kommunen aus ihren Vorhaben gelernt haben – Gutes wie Schwieriges.</p>"),
    ("BestPracticeIndexPage", "Best Practices", "best-practices",
     "<p>Erprobte Lösungen, die andere Kommunen übernehmen können.</p>"),
]


@transaction.atomic
def ensure_site_structure():
    """Create home page and section index pages, and point the default site at them."""
    from knowledge import models

    home = models.HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        # Wagtail's initial migration creates a placeholder "Welcome" page; replace it.
        for page in root.get_children().exact_type(Page):
            page.delete()
        home = models.HomePage(
            title="Kommunales Wissensnetz",
            slug="home",
            intro="<p>Erfahrungen, Protokolle und Best Practices der Mitgliedskommunen – "
            "damit niemand bei null anfängt.</p>",
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    for class_name, title, slug, intro in SECTIONS:
        model = getattr(models, class_name)
        if not model.objects.exists():
            section = model(title=title, slug=slug, intro=intro)
            home.add_child(instance=section)
            section.save_revision().publish()

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True,
            site_name="Kommunales Wissensnetz",
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = "Kommunales Wissensnetz"
        site.save()
    return home


def _page_permissions(group, page, codenames):
    for codename in codenames:
        permission = Permission.objects.get(content_type__app_label="wagtailcore",
                                            codename=f"{codename}_page")
        GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


def _collection_permissions(group, codenames):
    root = Collection.get_first_root_node()
    for app_label, codename in codenames:
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=root, permission=permission
        )


def _model_permissions(group, app_label, codenames):
    for codename in codenames:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


@transaction.atomic
def ensure_roles():
    """Create the groups Redaktion, Beratung and Kommune with their permissions."""
    from knowledge import models

    home = ensure_site_structure()
    projects = models.ProjectIndexPage.objects.get()
    lessons = models.LessonLearnedIndexPage.objects.get()
    practices = models.BestPracticeIndexPage.objects.get()

    redaktion, _ = Group.objects.get_or_create(name=REDAKTION)
    beratung, _ = Group.objects.get_or_create(name=BERATUNG)
    kommune, _ = Group.objects.get_or_create(name=KOMMUNE)
    documents = [("wagtaildocs", "add_document"), ("wagtaildocs", "choose_document")]
    images = [("wagtailimages", "add_image"), ("wagtailimages", "choose_image")]

    for group in (redaktion, beratung, kommune):
        _model_permissions(group, "wagtailadmin", ["access_admin"])
        _collection_permissions(group, documents + images)

    # Redaktion: moderates and publishes everything, maintains municipalities and topics;
    # "bulk_delete" lets it delete a page with children (a duplicate project and its protocols).
    _page_permissions(redaktion, home, ["add", "change", "publish", "lock", "unlock",
                                        "bulk_delete"])
    _collection_permissions(
        redaktion, [("wagtaildocs", "change_document"), ("wagtailimages", "change_image")]
    )
    _model_permissions(redaktion, "knowledge", [
        "add_municipality", "change_municipality", "add_topic", "change_topic",
        "add_municipalitymember", "change_municipalitymember", "delete_municipalitymember",
    ])

    # Beratung: creates and publishes projects and their session protocols.
    _page_permissions(beratung, projects, ["add", "change", "publish", "lock"])
    _collection_permissions(beratung, [("wagtaildocs", "change_document")])

    # Kommune: drafts of lessons learned and best practices ("add" = edit own pages only);
    # publishing goes through the Redaktion's workflow.
    _page_permissions(kommune, lessons, ["add"])
    _page_permissions(kommune, practices, ["add"])

    ensure_moderation_workflow(redaktion, [lessons, practices])
    retire_wagtail_defaults()


def ensure_moderation_workflow(redaktion, pages):
    """One-step workflow: the Redaktion approves or rejects submitted lessons and practices."""
    workflow, _ = Workflow.objects.get_or_create(name="Redaktionelle Freigabe")
    task = GroupApprovalTask.objects.filter(name="Prüfung durch die Redaktion").first()
    if task is None:
        task = GroupApprovalTask.objects.create(name="Prüfung durch die Redaktion")
    task.groups.add(redaktion)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for page in pages:
        WorkflowPage.objects.get_or_create(page=page, defaults={"workflow": workflow})


# Created by Wagtail's own migrations: a workflow on the root page whose task goes to the group
# "Moderators", and the groups "Moderators" and "Editors" with rights on the whole tree.
WAGTAIL_DEFAULT_WORKFLOW = "Moderators approval"
WAGTAIL_DEFAULT_GROUPS = ("Moderators", "Editors")


def retire_wagtail_defaults():
    """Switch off Wagtail's stock workflow on the root page and remove its unused groups.

    Our roles are Redaktion, Beratung and Kommune. The stock workflow covered every page that
    our own workflow does not (projects, protocols, roadmaps): Beratung saw "Zur Moderation
    einreichen", and a page submitted there waited for the empty group "Moderators", locked for
    everyone else, with no one able to approve it. Deactivating cancels such submissions. The
    groups go only while nobody is in them: an operator who uses them keeps them.
    """
    stock = Workflow.objects.filter(name=WAGTAIL_DEFAULT_WORKFLOW, active=True,
                                    workflow_pages__page__depth=1).distinct()
    for workflow in stock:
        for workflow_task in workflow.workflow_tasks.select_related("task"):
            workflow_task.task.deactivate()
        workflow.deactivate()
    Group.objects.filter(name__in=WAGTAIL_DEFAULT_GROUPS, user__isnull=True).delete()
