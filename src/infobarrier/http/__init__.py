"""The HTTP API (FastAPI): ``/v1/tenants/{tenant}/...``, a thin adapter over the services."""
