"""Mounted at the site root when SANDBOX_ENABLED: Salesforce's paths (/services/...) and
the sandbox's own (/sandbox/...)."""

from django.urls import path, re_path

from . import control_views, sf_views, sw_views

V = r"^services/data/v(?P<version>\d+\.\d+)/"
SW = "sandbox/saleswings/api/v1/"

urlpatterns = [
    # Salesforce stand-in
    re_path(r"^services/oauth2/token/?$", sf_views.oauth_token, name="sandbox-sf-token"),
    re_path(r"^id/(?P<org_id>00D\w{12,15})/(?P<user_id>005\w{12,15})/?$", sf_views.identity),
    re_path(r"^services/data/?$", sf_views.versions),
    re_path(V + r"?$", sf_views.resources),
    re_path(V + r"limits/?$", sf_views.limits),
    re_path(V + r"query/?$", sf_views.query),
    re_path(V + r"queryAll/?$", sf_views.query_all),
    re_path(V + r"(?:query|queryAll)/(?P<locator>[^/]+-\d+)/?$", sf_views.query_more),
    re_path(V + r"sobjects/?$", sf_views.describe_global),
    re_path(V + r"sobjects/(?P<name>\w+)/?$", sf_views.sobject_root),
    re_path(V + r"sobjects/(?P<name>\w+)/describe/?$", sf_views.sobject_describe),
    re_path(V + r"sobjects/(?P<name>\w+)/(?P<rid>\w+)/?$", sf_views.sobject_record),
    re_path(V + r"composite/sobjects/?$", sf_views.collections),
    re_path(V + r"composite/sobjects/(?P<name>\w+)/(?P<ext>\w+)/?$", sf_views.collections_upsert),
    re_path(V + r"(?P<rest>.*)$", sf_views.not_found),
    # SalesWings stand-in
    path(SW + "account", sw_views.account),
    path(SW + "tags", sw_views.tags),
    path(SW + "scores", sw_views.scores),
    path(SW + "prospects", sw_views.prospects),
    path(SW + "activities", sw_views.activities),
    path(SW + "metrics", sw_views.metrics),
    path(SW + "logs", sw_views.logs),
    path(SW + "salesforce-changes", sw_views.salesforce_changes),
    re_path(r"^sandbox/saleswings/(?P<rest>.*)$", sw_views.not_found),
    # control
    path("sandbox/control/faults", control_views.faults, name="sandbox-faults"),
    path("sandbox/control/stats", control_views.stats, name="sandbox-stats"),
    path("sandbox/control/reset-counters", control_views.reset_counters),
    path("sandbox/control/churn", control_views.churn_now),
]
