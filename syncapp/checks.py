"""System checks for misconfiguration (ids are stable: swstudio.E001...)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility, deploy=False)
def check_q_cluster(app_configs, **kwargs):
    errors = []
    q = settings.Q_CLUSTER
    timeout, retry = q.get("timeout"), q.get("retry")
    if timeout is None or retry is None or timeout >= retry:
        errors.append(
            checks.Error(
                "Q_CLUSTER['timeout'] must be set and below Q_CLUSTER['retry'], or django-q2 "
                "hands a running step to a second worker.",
                id="swstudio.E001",
            )
        )
    if q.get("catch_up", True):
        errors.append(
            checks.Error(
                "Q_CLUSTER['catch_up'] must be False: replaying missed Watcher slots after "
                "downtime starts a burst of Watchers.",
                id="swstudio.E002",
            )
        )
    if not q.get("max_attempts"):
        errors.append(
            checks.Error(
                "Q_CLUSTER['max_attempts'] must be a finite number of attempts.",
                id="swstudio.E003",
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_sandbox_off(app_configs, **kwargs):
    if settings.SANDBOX_ENABLED:
        return [
            checks.Warning(
                "The sandbox (stand-ins for Salesforce and SalesWings) is enabled.",
                hint="Set SANDBOX_ENABLED=False in production.",
                id="swstudio.W001",
            )
        ]
    return []
