"""SW Studio's admin: the product UI. One module per concern.

- (the site itself, with its branding and the Setup page URLs, is syncapp.admin_site)
- setup, dashboard, connection: the Setup page
- runs: SW Apex Jobs · jobs: Apex Jobs · schedules: Scheduled Jobs
- options: Studio Options, Notification Settings, Workflow Options
- mappings: Field Mappings, Logger Options
- tokens: API tokens, listed without their keys
- mirror: the local mirror of SalesWings data (tags, scores, prospects, activities), read-only
"""

from syncapp.admin import (  # noqa: F401  (registers the admins)
    jobs,
    mappings,
    mirror,
    options,
    runs,
    schedules,
    tokens,
)
