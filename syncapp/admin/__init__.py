"""SW Studio's admin: the product UI. One module per concern.

- (the site itself, with its branding and the Setup page URLs, is syncapp.admin_site)
- setup, dashboard, connection: the Setup page
- runs: SW Apex Jobs · jobs: Apex Jobs · schedules: Scheduled Jobs
- options: Studio Options, Notification Settings, Workflow Options
"""

from syncapp.admin import jobs, options, runs, schedules  # noqa: F401  (registers the admins)
