"""SW Studio's admin site: the product's UI. Branding, and the Setup page as its home.

`SWStudioAdminConfig` (named in INSTALLED_APPS instead of django.contrib.admin) makes this
site `admin.site`. Both live outside the `syncapp.admin` package on purpose: that package
registers the model admins on `admin.site` when imported, so importing it while the lazy
`admin.site` is being created would register them on a throw-away instance.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.urls import path, reverse


class RefusesRegexLookups:
    """A list's query string may filter by any field lookup (`?email__regex=...`); a regular
    expression the database cannot compile failed there, as a 500. Regex lookups are refused
    instead (a 400): the admin's own filters and searches never use them."""

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.rsplit("__", 1)[-1] in ("regex", "iregex"):
            return False
        return super().lookup_allowed(lookup, value, request)


class SWStudioAdminSite(admin.AdminSite):
    site_header = "SW Studio"
    site_title = "SW Studio"
    index_title = "SW Studio"
    index_template = "admin/swstudio_index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every model admin, django-q2's and Django's own (Users, Groups) too.
        base = admin_class or admin.ModelAdmin
        admin_class = type(
            base.__name__, (RefusesRegexLookups, base), {"__module__": base.__module__}
        )
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        from syncapp.admin import setup

        setup_urls = [
            path("setup/", self.admin_view(setup.setup_page), name="swstudio_setup"),
            path(
                "setup/progress.json",
                self.admin_view(setup.progress_json),
                name="swstudio_setup_progress",
            ),
            path(
                "setup/status/",
                self.admin_view(setup.status_fragment),
                name="swstudio_setup_status",
            ),
            path("setup/switch/", self.admin_view(setup.switch), name="swstudio_setup_switch"),
            path(
                "setup/full-sync/",
                self.admin_view(setup.full_sync),
                name="swstudio_setup_full_sync",
            ),
            path("setup/connect/", self.admin_view(setup.connect), name="swstudio_setup_connect"),
            path(
                "setup/org-check/",
                self.admin_view(setup.run_org_check),
                name="swstudio_setup_org_check",
            ),
            path(
                "setup/check-salesforce/",
                self.admin_view(setup.check_salesforce),
                name="swstudio_setup_check_salesforce",
            ),
            path(
                "setup/data/<slug:dataset>/delete/",
                self.admin_view(setup.delete_data),
                name="swstudio_setup_delete_data",
            ),
        ]
        # Ours first: the admin's catch-all app_label pattern must not see "setup".
        return setup_urls + super().get_urls()

    def login(self, request, extra_context=None):
        # After logging in, the Setup page is the first thing offered, also when /admin/ sent
        # the user here (?next=/admin/); a user on their way to another page goes there.
        index = reverse("admin:index", current_app=self.name)
        setup_url = reverse("admin:swstudio_setup", current_app=self.name)
        for name in ("GET", "POST"):
            params = getattr(request, name)
            if params.get(REDIRECT_FIELD_NAME) == index:
                params = params.copy()
                params[REDIRECT_FIELD_NAME] = setup_url
                setattr(request, name, params)
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            extra_context = {**(extra_context or {}), REDIRECT_FIELD_NAME: setup_url}
        return super().login(request, extra_context)

    def index(self, request, extra_context=None):
        from syncapp import roles
        from syncapp.admin.setup import summary

        extra_context = {**(extra_context or {})}
        if roles.is_viewer(request.user):
            extra_context["setup_summary"] = summary()
        return super().index(request, extra_context)


class SWStudioAdminConfig(AdminConfig):
    default_site = "syncapp.admin_site.SWStudioAdminSite"
