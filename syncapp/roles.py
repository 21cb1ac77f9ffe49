"""The product's two roles, as Django groups."""

ADMINISTRATOR = "SW Studio Administrator"
USER = "SW Studio User"

MANAGE_SYNC = "syncapp.manage_sync"


def is_administrator(user):
    return bool(user and user.is_active and user.has_perm(MANAGE_SYNC))


def is_viewer(user):
    """Administrators and SW Studio Users may look at the sync."""
    return bool(
        user
        and user.is_active
        and (is_administrator(user) or user.groups.filter(name=USER).exists())
    )


def sync_role_permissions(sender=None, **kwargs):
    """Keep the groups' permissions in step with the app's models (post_migrate).

    The groups are created by a data migration; models added later get their permissions
    here, so a new model never stays invisible to the roles.
    """
    from django.contrib.auth.models import Group, Permission

    perms = Permission.objects.filter(content_type__app_label="syncapp")
    admin, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    admin.permissions.set(perms)
    viewer, _ = Group.objects.get_or_create(name=USER)
    viewer.permissions.set(perms.filter(codename__startswith="view_"))
