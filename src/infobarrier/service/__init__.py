"""Use cases: every adapter (CLI, HTTP, web, SCIM) calls these, never the store directly.

Each use case is one transaction, writes its audit entry (§9), and speaks core values.
The pieces are wired together in :mod:`infobarrier.service.wiring`.
"""
