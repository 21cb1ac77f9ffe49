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


@checks.register(checks.Tags.compatibility)
def check_salesforce_connection(app_configs, **kwargs):
    from syncapp.salesforce.config import config_from_settings
    from syncapp.salesforce.errors import ConfigurationError

    try:
        config = config_from_settings()
    except ConfigurationError as exc:
        return [checks.Error(str(exc), id="swstudio.E020")]
    errors = []
    if config.is_sandbox and not settings.SANDBOX_ENABLED:
        errors.append(
            checks.Error(
                "No Salesforce org is configured and the sandbox is off.",
                hint="Set SALESFORCE_LOGIN_URL and credentials (docs/salesforce-connection.md).",
                id="swstudio.E021",
            )
        )
    if config.jwt_key_file:
        try:
            with open(config.jwt_key_file):
                pass
        except OSError as exc:
            errors.append(
                checks.Error(
                    f"SALESFORCE_JWT_KEY_FILE cannot be read: {exc.strerror}.",
                    id="swstudio.E022",
                )
            )
    if settings.SALESWINGS_API_URL:
        from syncapp.engine.backend import insecure_endpoint_problem

        problem = insecure_endpoint_problem(settings.SALESWINGS_API_URL)
        if problem:
            errors.append(
                checks.Error(
                    f"SALESWINGS_API_URL: {problem} No token is sent to it.",
                    id="swstudio.E023",
                )
            )
    if not settings.SALESWINGS_API_URL and not settings.SANDBOX_ENABLED:
        errors.append(
            checks.Warning(
                "SALESWINGS_API_URL is empty and the sandbox is off: the backend client needs "
                "Studio Options' API Endpoint.",
                id="swstudio.W020",
            )
        )
    return errors
