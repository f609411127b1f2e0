"""Global CLI state: the database URL, the tenant, and the services built from them."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infobarrier.core.errors import InvalidInput

if TYPE_CHECKING:  # imported when first used: ``--help`` and start-up stay light
    from infobarrier.service.settings import Settings
    from infobarrier.service.wiring import Services


def cli_actor() -> str:
    """Audit actor for the CLI: ``cli:<os user>`` (docs/interfaces.md)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"


@dataclass
class CliState:
    """Set by the root callback from ``--db`` and ``--tenant``."""

    db_option: str | None = None
    tenant_name: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _services: Services | None = field(default=None, repr=False)

    def reset(self, db: str | None, tenant: str | None) -> None:
        """A new command line: its options, nothing built yet."""
        self.db_option, self.tenant_name = db, tenant
        self._settings = self._services = None

    @property
    def settings(self) -> Settings:
        """The settings (``INFOBARRIER_*``), ``--db`` over ``INFOBARRIER_DB``."""
        if self._settings is None:
            from infobarrier.service.settings import load

            self._settings = load(db=self.db_option)
        return self._settings

    @property
    def db(self) -> str:
        """The database URL in use."""
        return self.settings.db

    @property
    def services(self) -> Services:
        """Built on first use, so ``--help`` never touches the database."""
        if self._services is None:
            from infobarrier.service.wiring import build

            self._services = build(settings=self.settings)
            # Exceptions whose window ended since anyone looked are recorded first (§11).
            self._services.exceptions.sweep()
        return self._services

    @property
    def tenant(self) -> str:
        """The tenant every command works on, or a clear error."""
        if not self.tenant_name:
            raise InvalidInput(
                "no tenant given: pass --tenant NAME before the command, or set INFOBARRIER_TENANT"
            )
        return self.tenant_name

    @property
    def actor(self) -> str:
        """Who the audit log names."""
        return cli_actor()


STATE = CliState()
