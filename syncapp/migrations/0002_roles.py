from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATOR = "SW Studio Administrator"
USER = "SW Studio User"
MODELS = [
    "studiooptions",
    "notificationsetting",
    "workflowoption",
    "syncstate",
    "swapexjob",
    "asyncjob",
    "schedulestats",
    "scheduledjob",
]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="syncapp")
    admin, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    admin.permissions.set(perms.filter(content_type__model__in=MODELS))
    viewer, _ = Group.objects.get_or_create(name=USER)
    viewer.permissions.set(perms.filter(codename__startswith="view_"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[ADMINISTRATOR, USER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
