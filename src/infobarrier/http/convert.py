"""Core and service values to response models."""

from __future__ import annotations

from infobarrier.core.barriers import ListKind, Policy, policy_warning
from infobarrier.core.contract import Verdict
from infobarrier.core.directory import Directory, Group, User
from infobarrier.core.errors import NotFound
from infobarrier.core.licenses import LicenseBook
from infobarrier.http import schemas
from infobarrier.store.records import Application


def user_out(user: User, directory: Directory) -> schemas.UserOut:
    """A user with its sponsor's UPN and its groups' names."""
    sponsor = None
    if user.sponsor_id:
        try:
            sponsor = directory.user(user.sponsor_id).upn
        except NotFound:  # a deleted sponsor
            sponsor = None
    return user_view_out(user, directory.groups_of(user.id), sponsor)


def user_view_out(user: User, groups: list[Group], sponsor: str | None) -> schemas.UserOut:
    """A user from :meth:`DirectoryHandler.user_view` (no directory loaded)."""
    return schemas.UserOut(
        id=user.id,
        upn=user.upn,
        display_name=user.display_name,
        mail=user.mail,
        account_enabled=user.account_enabled,
        user_type=user.user_type.value,
        hidden_from_address_lists=user.hidden_from_address_lists,
        kind=user.kind.value,
        sponsor=sponsor,
        attributes=dict(user.attributes),
        proxy_addresses=list(user.proxy_addresses),
        groups=sorted(g.display_name for g in groups),
    )


def group_out(group: Group, directory: Directory) -> schemas.GroupOut:
    """A group with member UPNs, sorted."""
    return schemas.GroupOut(
        id=group.id,
        display_name=group.display_name,
        mail=group.mail,
        members=sorted(directory.user(u).upn for u in group.members),
    )


def skus_out(book: LicenseBook) -> list[schemas.SkuOut]:
    """Every SKU with seats bought and assigned."""
    return [
        schemas.SkuOut(
            part_number=s.part_number,
            name=s.name,
            service_plans=list(s.service_plans),
            seats=s.seats,
            assigned=book.assigned(s.part_number),
        )
        for s in book.skus.values()
    ]


def policy_out(policy: Policy) -> schemas.PolicyOut:
    """A policy as defined, with its warnings."""
    allow = policy.kind is ListKind.ALLOW
    warning = policy_warning(policy)
    return schemas.PolicyOut(
        id=policy.id,
        name=policy.name,
        assigned_segment=policy.segment,
        segments_allowed=list(policy.segments) if allow else None,
        segments_blocked=None if allow else list(policy.segments),
        state=policy.state.value,
        moderation_allowed=policy.moderation_allowed,
        comment=policy.comment,
        warnings=[warning] if warning else [],
    )


def application_out(app: Application) -> schemas.ApplicationOut:
    """An application's status."""
    return schemas.ApplicationOut(
        id=app.id,
        number=app.seq,
        status=app.status,
        actor=app.actor,
        started=app.started_at,
        ended=app.ended_at,
        total_recipients=app.total_recipients,
        failed_recipients=app.failed_recipients,
        percent=app.percent,
        error=app.error or None,
        report=app.report,
    )


def verdict_out(verdict: Verdict) -> schemas.VerdictOut:
    """A verdict in the one shape of :meth:`Verdict.as_dict`."""
    return schemas.VerdictOut.model_validate(verdict.as_dict())
