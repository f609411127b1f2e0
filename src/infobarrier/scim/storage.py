"""A ``scim2-server`` storage over the tenant's directory, through the provisioning service.

``scim2-server``'s :class:`~scim2_server.handler.ScimHandler` does the SCIM protocol
(validation, PUT and PATCH semantics, ETags, search parameters, responses); this storage
reads and writes the directory. Every SCIM request is one
:meth:`~infobarrier.service.provisioning.ProvisioningHandler.session`: one transaction,
audited, then reconciliation when the directory changed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any, Union, cast

from scim2_models import (
    Group,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimFilter,
    SearchRequest,
    UniquenessException,
    User,
)
from scim2_models import InvalidValueException as ScimInvalidValue
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage

from infobarrier.core.directory import User as DirectoryUser
from infobarrier.core.directory import fold, new_id
from infobarrier.core.errors import Busy, Conflict, InfobarrierError, NotFound
from infobarrier.scim import mapping, upn
from infobarrier.scim.schemas import ScimUser
from infobarrier.service.provisioning import ProvisioningHandler, ProvisioningSession, ResourceKind


class ServiceUnavailable(SCIMException):
    """The store is busy (its write lock was not had in time): try again."""

    status = 503
    _default_detail = "The service is busy; try again"


def scim_error(exc: InfobarrierError) -> SCIMException:
    """The SCIM error of a directory error: 404, 409 ``uniqueness``, 503 when busy, or 400
    ``invalidValue``."""
    if isinstance(exc, Busy):
        return ServiceUnavailable(detail=exc.message)
    if isinstance(exc, NotFound):
        return NotFoundException(detail=exc.message)
    if isinstance(exc, Conflict):
        return UniquenessException(detail=exc.message)
    return ScimInvalidValue(detail=exc.message)


def _kind(resource_type: ResourceType) -> ResourceKind:
    return ResourceKind(str(resource_type.name))


class DirectoryStorage(ScimStorage):
    """The users and groups of one tenant, as SCIM resources.

    :param write: whether the request may change the directory (its session then locks
        the tenant for writers).
    """

    def __init__(
        self, provisioning: ProvisioningHandler, tenant: str, actor: str, *, write: bool
    ) -> None:
        self.provisioning = provisioning
        self.tenant = tenant
        self.actor = actor
        self.write = write
        self._session: ProvisioningSession | None = None
        #: The version (ETag) of each resource rendered in this operation, by kind and id:
        #: an update or delete checks the version the protocol read without rendering again.
        self._versions: dict[tuple[ResourceKind, str], str | None] = {}

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One SCIM request: one provisioning session (transaction, audit, reconciliation)."""
        self._versions.clear()
        try:
            with self.provisioning.session(self.tenant, self.actor, write=self.write) as session:
                self._session = session
                yield
        except InfobarrierError as exc:
            raise scim_error(exc) from exc
        finally:
            self._session = None
            self._versions.clear()

    @property
    def session(self) -> ProvisioningSession:
        """The session of the operation in progress."""
        if self._session is None:
            raise RuntimeError("the storage is used outside of an operation")
        return self._session

    # -- reads ------------------------------------------------------------------------
    def _render(self, kind: ResourceKind, id: str) -> Resource[Any]:
        """One resource from its own rows: a user with its groups, or a group with the
        users of its members; never the whole directory (docs/scim.md, "Cost")."""
        session = self.session
        resource: Resource[Any]
        try:
            if kind is ResourceKind.USER:
                user, groups = session.user_with_groups(id)
                resource = mapping.render_user(user, session.record(kind, id), groups)
            else:
                resource = mapping.render_group(
                    session.group(id), session.record(kind, id), session.users
                )
        except NotFound:
            raise NotFoundException(detail=f"{kind.value} {id!r} not found") from None
        self._versions[(kind, id)] = resource.meta.version if resource.meta is not None else None
        return resource

    def _version(self, kind: ResourceKind, id: str) -> str | None:
        """The resource's version: as rendered earlier in this operation, else rendered now.

        The operation's transaction holds the tenant's write lock, so what was rendered
        earlier in it is still what is stored.
        """
        if (kind, id) in self._versions:
            return self._versions[(kind, id)]
        resource = self._render(kind, id)
        return resource.meta.version if resource.meta is not None else None

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self._render(_kind(resource_type), resource_id)

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        scim_filter = search_request.filter
        if (
            scim_filter is None
            and search_request.sort_by is None
            and search_request.count is not None
            and len(resource_types) == 1
        ):
            return self._page(_kind(resource_types[0]), search_request)
        candidates: list[Resource[Any]] = []
        for resource_type in resource_types:
            candidates.extend(self._candidates(_kind(resource_type), scim_filter))
        if scim_filter is not None and not scim_filter.models and candidates:
            models = tuple(dict.fromkeys(type(r) for r in candidates))
            scim_filter = ScimFilter[Union[models]](str(scim_filter))  # type: ignore[valid-type]  # noqa: UP007
        found = [r for r in candidates if scim_filter is None or scim_filter.match(r)]
        if search_request.sort_by is not None:
            descending = search_request.sort_order == SearchRequest.SortOrder.descending
            present = [r for r in found if search_request.sort_value(r) is not None]
            missing = [r for r in found if search_request.sort_value(r) is None]
            present.sort(
                key=lambda r: (search_request.sort_value(r), r.id or ""), reverse=descending
            )
            found = present + sorted(missing, key=lambda r: r.id or "")
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    def _page(self, kind: ResourceKind, search_request: SearchRequest[Any]) -> SearchPage:
        """An unfiltered, unsorted list: counted and paged in the database; only the
        page's resources are rendered (docs/scim.md, "Cost")."""
        start = search_request.start_index_0 or 0
        total, ids = self.session.page(kind, start, search_request.count)
        found = []
        for id in ids:
            try:
                found.append(self._render(kind, id))
            except NotFoundException:  # pragma: no cover - the tenant is read in one snapshot
                continue
        return SearchPage(total, found)

    def _candidates(
        self, kind: ResourceKind, scim_filter: ScimFilter[Any] | None
    ) -> list[Resource[Any]]:
        """The resources a filter may match: a few for ``eq`` on a key, else all of them.

        Only a search without such a key loads the whole directory.
        """
        session = self.session
        ids = self._lookup(kind, scim_filter)
        if ids is None:
            directory = session.directory
            records = session.all_records(kind)
            if kind is ResourceKind.USER:
                return [
                    mapping.render_user(u, records.get(u.id), directory.groups_of(u.id))
                    for u in directory.users()
                ]

            def users(ids: Collection[str]) -> dict[str, DirectoryUser]:
                return {uid: directory.user(uid) for uid in ids}

            return [mapping.render_group(g, records.get(g.id), users) for g in directory.groups()]
        found = []
        for id in dict.fromkeys(ids):
            try:
                found.append(self._render(kind, id))
            except NotFoundException:
                continue
        return found

    def _lookup(self, kind: ResourceKind, scim_filter: ScimFilter[Any] | None) -> list[str] | None:
        """Ids for ``userName``/``displayName``/``externalId``/``id`` ``eq "x"``, else ``None``.

        The filter is still evaluated on what this finds, so this only narrows the search.
        """
        if scim_filter is None or scim_filter.model is None:
            return None
        node = scim_filter.ast
        if (
            not isinstance(node, Comparison)
            or node.op != CompareOperator.eq
            or not isinstance(node.value, str)
        ):
            return None
        binding = scim_filter.resolve_comparison(node.attr_path, strict=False)
        if (
            binding is None
            or binding.sub_field_name is not None
            or not issubclass(binding.model, Resource)  # not an extension's attribute
        ):
            return None
        field = binding.field_name
        value = node.value
        if field == "id":
            return [value]
        if field == "external_id":
            return self.session.with_external_id(kind, value)
        if kind is ResourceKind.USER and field == "user_name":
            if not upn.is_address(value):  # kept only in the SCIM records
                return self._with_user_name(value)
            user = self.session.find_upn(value)
            return [user.id] if user is not None else []
        if kind is ResourceKind.GROUP and field == "display_name":
            group_id = self.session.find_group(value)
            return [group_id] if group_id is not None else []
        return None

    # -- writes -------------------------------------------------------------------------
    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        kind = _kind(resource_type)
        session = self.session
        id = new_id()
        if kind is ResourceKind.USER:
            user = mapping.user_from_scim(
                cast(Any, resource), id=id, upn=self._upn(cast(Any, resource), id, None)
            )
            session.save_user(user, external_id=resource.external_id, data=mapping.kept(resource))
        else:
            group = mapping.group_from_scim(cast(Group, resource), id=id, members=session)
            session.save_group(group, external_id=resource.external_id, data=mapping.kept(resource))
        self._versions.clear()  # a write may change what any resource renders
        return self._render(kind, id)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        kind = _kind(resource_type)
        id = cast(str, resource.id)
        self._check_version(self._version(kind, id), expected_version)
        session = self.session
        if kind is ResourceKind.USER:
            base = session.user(id)
            user = mapping.user_from_scim(
                cast(Any, resource), id=id, base=base, upn=self._upn(cast(Any, resource), id, base)
            )
            session.save_user(user, external_id=resource.external_id, data=mapping.kept(resource))
        else:
            group = mapping.group_from_scim(
                cast(Group, resource), id=id, members=session, base=session.group(id)
            )
            session.save_group(group, external_id=resource.external_id, data=mapping.kept(resource))
        self._versions.clear()  # a write may change what any resource renders
        return self._render(kind, id)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        kind = _kind(resource_type)
        self._check_version(self._version(kind, resource_id), expected_version)
        remove: Callable[[str], None] = (
            self.session.delete_user if kind is ResourceKind.USER else self.session.delete_group
        )
        self._versions.clear()
        remove(resource_id)

    def _upn(self, resource: User[Any], id: str, base: DirectoryUser | None) -> str:
        """The UPN of a user being written (docs/scim.md, "userName").

        A ``userName`` that is an address is the UPN, with no further reads (Entra ID,
        Okta). Any other must also be unique among the SCIM records (case-insensitively).
        """
        session = self.session
        user_name = (resource.user_name or "").strip()
        previous: object = None
        if user_name and not upn.is_address(user_name):
            if any(other != id for other in self._with_user_name(user_name)):
                raise UniquenessException(detail=f"userName {user_name!r} is already used")
            record = session.record(ResourceKind.USER, id) if base is not None else None
            previous = record.data.get("userName") if record is not None else None
        return upn.derive_upn(
            resource,
            tenant=session.tenant,
            template=session.upn_template,
            current_upn=base.upn if base is not None else None,
            previous_user_name=previous if isinstance(previous, str) else None,
        )

    def _with_user_name(self, user_name: str) -> list[str]:
        """Ids of the users whose SCIM ``userName`` is this, ignoring case (a scan of the
        tenant's SCIM records: only for a ``userName`` that is not an address)."""
        wanted = fold(user_name.strip())
        return sorted(
            id
            for id, record in self.session.all_records(ResourceKind.USER).items()
            if isinstance(name := record.data.get("userName"), str) and fold(name) == wanted
        )

    @staticmethod
    def _check_version(version: str | None, expected_version: str | None) -> None:
        if expected_version is not None and version != expected_version:
            raise PreconditionFailedException


__all__ = ["DirectoryStorage", "ScimUser", "scim_error"]
