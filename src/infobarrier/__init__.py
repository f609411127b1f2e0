"""infobarrier: an information-barrier (ethical wall) engine and service.

The package is layered (see ``docs/architecture.md``): ``core`` is pure (no I/O),
``store`` persists, ``service`` holds the use cases, and ``cli`` (later ``http``,
``web``, ``scim``) are thin adapters wired in ``service.wiring``.
"""

__version__ = "0.1.0"
