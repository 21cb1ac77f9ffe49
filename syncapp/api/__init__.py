"""The Sync/v1 REST API (Django REST framework), served under /Sync/v1/."""
