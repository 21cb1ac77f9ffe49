from django.apps import AppConfig


class SyncappConfig(AppConfig):
    name = "syncapp"
    verbose_name = "SW Studio"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers system checks)
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, sender=self)
