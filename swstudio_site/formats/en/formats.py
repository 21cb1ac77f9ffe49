# The admin's date-times (lists, read-only fields) with seconds and the time zone, as the run
# records' times are compared to the second and read across zones: 2026-12-07 09:14:02 UTC.
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
