"""Teams, chats, meetings and calls: the collaboration service's enforcement points (§7).

Each refusal is a 403 with a machine-readable ``code`` (a barrier verdict's code, or
``license_required`` / ``account_disabled`` for licensing) and the policy that said no.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request

from infobarrier.core.collaboration import Call, CallKind, Chat, Meeting, Member, Team, TeamMode
from infobarrier.http import schemas
from infobarrier.http.auth import Area, actor, require, services_of
from infobarrier.http.errors import ERRORS
from infobarrier.service.tokens import Principal

router = APIRouter(prefix="/v1/tenants/{tenant}", responses=ERRORS, tags=["collaboration"])
enforce = require(Area.ENFORCE)


UpnOf = Callable[[str], str]


def _members(upn_of: UpnOf, members: tuple[Member, ...]) -> list[schemas.MemberOut]:
    return [schemas.MemberOut(upn=upn_of(m.user_id), seq=m.seq) for m in members]


def _names(request: Request, tenant: str) -> UpnOf:
    """User id -> UPN from the cached epoch in force (no directory load per request);
    a user deleted since shows by id."""
    epoch = services_of(request).decisions.current(tenant).epoch

    def upn_of(user_id: str) -> str:
        index = epoch.index_of_id(user_id)
        return epoch.upns[index] if index is not None else user_id

    return upn_of


def team_out(team: Team, d: UpnOf) -> schemas.TeamOut:
    """A team with UPNs."""
    return schemas.TeamOut(
        id=team.id,
        name=team.name,
        mode=team.mode.value,
        owners=[d(o) for o in team.owners],
        members=_members(d, team.members),
    )


def chat_out(chat: Chat, d: UpnOf) -> schemas.ChatOut:
    """A chat with UPNs."""
    return schemas.ChatOut(
        id=chat.id,
        kind=chat.kind.value,
        participants=_members(d, chat.participants),
        removed=[d(r) for r in chat.removed],
        read_only=chat.read_only,
    )


def meeting_out(meeting: Meeting, d: UpnOf) -> schemas.MeetingOut:
    """A meeting with UPNs."""
    return schemas.MeetingOut(
        id=meeting.id,
        subject=meeting.subject,
        organizer=d(meeting.organizer),
        invitees=_members(d, meeting.invitees),
        joined=[d(j) for j in meeting.joined],
    )


def call_out(call: Call, d: UpnOf) -> schemas.CallOut:
    """A call with UPNs."""
    return schemas.CallOut(
        id=call.id,
        kind=call.kind.value,
        participants=_members(d, call.participants),
        live=call.live,
        sharing=d(call.sharing) if call.sharing else None,
        meeting_id=call.meeting_id,
    )


# -- teams -----------------------------------------------------------------------------------
@router.get("/teams", response_model=list[schemas.TeamOut])
def list_teams(
    tenant: str, request: Request, _p: Principal = Depends(enforce)
) -> list[schemas.TeamOut]:
    """Every team."""
    d = _names(request, tenant)
    return [
        team_out(t, d)
        for t in services_of(request).collaboration.objects(tenant, "team")
        if isinstance(t, Team)
    ]


@router.post("/teams", response_model=schemas.TeamOut, status_code=201)
def create_team(
    tenant: str, body: schemas.TeamCreate, request: Request, p: Principal = Depends(enforce)
) -> schemas.TeamOut:
    """Create a team with its owners."""
    team = services_of(request).collaboration.create_team(
        tenant, body.name, body.owners, TeamMode(body.mode), actor(p)
    )
    return team_out(team, _names(request, tenant))


@router.get("/teams/{team_id}", response_model=schemas.TeamOut)
def get_team(
    tenant: str, team_id: str, request: Request, _p: Principal = Depends(enforce)
) -> schemas.TeamOut:
    """One team."""
    team = services_of(request).collaboration.get(tenant, "team", team_id)
    assert isinstance(team, Team)
    return team_out(team, _names(request, tenant))


@router.post("/teams/{team_id}/members", response_model=schemas.TeamOut)
def add_team_member(
    tenant: str,
    team_id: str,
    body: schemas.TeamMemberAdd,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.TeamOut:
    """``add-team-member``: by the team's mode (§7); 403 with the reason when refused."""
    team = services_of(request).collaboration.add_team_member(
        tenant, team_id, body.upn, body.by, actor(p)
    )
    return team_out(team, _names(request, tenant))


# -- chats -----------------------------------------------------------------------------------
@router.get("/chats", response_model=list[schemas.ChatOut])
def list_chats(
    tenant: str, request: Request, _p: Principal = Depends(enforce)
) -> list[schemas.ChatOut]:
    """Every chat."""
    d = _names(request, tenant)
    return [
        chat_out(c, d)
        for c in services_of(request).collaboration.objects(tenant, "chat")
        if isinstance(c, Chat)
    ]


@router.post("/chats", response_model=schemas.ChatOut, status_code=201)
def create_chat(
    tenant: str, body: schemas.ChatCreate, request: Request, p: Principal = Depends(enforce)
) -> schemas.ChatOut:
    """Start a 1:1 chat or a group chat."""
    chat = services_of(request).collaboration.create_chat(tenant, body.sender, body.to, actor(p))
    return chat_out(chat, _names(request, tenant))


@router.get("/chats/{chat_id}", response_model=schemas.ChatOut)
def get_chat(
    tenant: str, chat_id: str, request: Request, _p: Principal = Depends(enforce)
) -> schemas.ChatOut:
    """One chat."""
    chat = services_of(request).collaboration.get(tenant, "chat", chat_id)
    assert isinstance(chat, Chat)
    return chat_out(chat, _names(request, tenant))


@router.post("/chats/{chat_id}/participants", response_model=schemas.ChatOut)
def add_chat_participant(
    tenant: str,
    chat_id: str,
    body: schemas.ChatParticipantAdd,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.ChatOut:
    """Add someone to a group chat (every pair must stay compatible)."""
    chat = services_of(request).collaboration.add_chat_participant(
        tenant, chat_id, body.upn, body.by, actor(p)
    )
    return chat_out(chat, _names(request, tenant))


@router.get("/chats/{chat_id}/messages", response_model=list[schemas.MessageOut])
def list_messages(
    tenant: str, chat_id: str, request: Request, _p: Principal = Depends(enforce)
) -> list[schemas.MessageOut]:
    """A chat's history (read-only history stays readable)."""
    d = _names(request, tenant)
    return [
        schemas.MessageOut(id=m.id, sender=d(m.sender_id), text=m.text, at=m.at)
        for m in services_of(request).collaboration.messages(tenant, chat_id)
    ]


@router.post("/chats/{chat_id}/messages", response_model=schemas.MessageOut, status_code=201)
def post_message(
    tenant: str,
    chat_id: str,
    body: schemas.MessageCreate,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.MessageOut:
    """Post a message: 403 when the chat is read-only or the poster was removed."""
    m = services_of(request).collaboration.post_message(
        tenant, chat_id, body.sender, body.text, actor(p)
    )
    return schemas.MessageOut(id=m.id, sender=body.sender, text=m.text, at=m.at)


# -- meetings -------------------------------------------------------------------------------
@router.get("/meetings", response_model=list[schemas.MeetingOut])
def list_meetings(
    tenant: str, request: Request, _p: Principal = Depends(enforce)
) -> list[schemas.MeetingOut]:
    """Every meeting."""
    d = _names(request, tenant)
    return [
        meeting_out(m, d)
        for m in services_of(request).collaboration.objects(tenant, "meeting")
        if isinstance(m, Meeting)
    ]


@router.post("/meetings", response_model=schemas.MeetingOut, status_code=201)
def create_meeting(
    tenant: str, body: schemas.MeetingCreate, request: Request, p: Principal = Depends(enforce)
) -> schemas.MeetingOut:
    """Schedule a meeting: each invitee with the organizer and every other invitee."""
    meeting = services_of(request).collaboration.create_meeting(
        tenant, body.organizer, body.subject, body.invitees, actor(p)
    )
    return meeting_out(meeting, _names(request, tenant))


@router.get("/meetings/{meeting_id}", response_model=schemas.MeetingOut)
def get_meeting(
    tenant: str, meeting_id: str, request: Request, _p: Principal = Depends(enforce)
) -> schemas.MeetingOut:
    """One meeting."""
    meeting = services_of(request).collaboration.get(tenant, "meeting", meeting_id)
    assert isinstance(meeting, Meeting)
    return meeting_out(meeting, _names(request, tenant))


@router.post("/meetings/{meeting_id}/invitees", response_model=schemas.MeetingOut)
def invite(
    tenant: str,
    meeting_id: str,
    body: schemas.UpnBody,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.MeetingOut:
    """Invite someone more."""
    meeting = services_of(request).collaboration.invite(tenant, meeting_id, body.upn, actor(p))
    return meeting_out(meeting, _names(request, tenant))


@router.post("/meetings/{meeting_id}/join", response_model=schemas.MeetingOut)
def join(
    tenant: str,
    meeting_id: str,
    body: schemas.UpnBody,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.MeetingOut:
    """An invitee joins."""
    meeting = services_of(request).collaboration.join(tenant, meeting_id, body.upn, actor(p))
    return meeting_out(meeting, _names(request, tenant))


# -- calls -----------------------------------------------------------------------------------
@router.get("/calls", response_model=list[schemas.CallOut])
def list_calls(
    tenant: str, request: Request, _p: Principal = Depends(enforce)
) -> list[schemas.CallOut]:
    """Every call."""
    d = _names(request, tenant)
    return [
        call_out(c, d)
        for c in services_of(request).collaboration.objects(tenant, "call")
        if isinstance(c, Call)
    ]


@router.post("/calls", response_model=schemas.CallOut, status_code=201)
def start_call(
    tenant: str, body: schemas.CallCreate, request: Request, p: Principal = Depends(enforce)
) -> schemas.CallOut:
    """Place a 1:1, group or Remote Assist call."""
    call = services_of(request).collaboration.start_call(
        tenant, body.sender, body.to, CallKind(body.kind), actor(p), body.meeting_id
    )
    return call_out(call, _names(request, tenant))


@router.get("/calls/{call_id}", response_model=schemas.CallOut)
def get_call(
    tenant: str, call_id: str, request: Request, _p: Principal = Depends(enforce)
) -> schemas.CallOut:
    """One call."""
    call = services_of(request).collaboration.get(tenant, "call", call_id)
    assert isinstance(call, Call)
    return call_out(call, _names(request, tenant))


@router.post("/calls/{call_id}/participants", response_model=schemas.CallOut)
def add_call_participant(
    tenant: str,
    call_id: str,
    body: schemas.UpnBody,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.CallOut:
    """Bring someone into a live call."""
    call = services_of(request).collaboration.add_call_participant(
        tenant, call_id, body.upn, actor(p)
    )
    return call_out(call, _names(request, tenant))


@router.post("/calls/{call_id}/screen-share", response_model=schemas.CallOut)
def share_screen(
    tenant: str,
    call_id: str,
    body: schemas.UpnBody,
    request: Request,
    p: Principal = Depends(enforce),
) -> schemas.CallOut:
    """Share a screen: the sharer with every other participant."""
    call = services_of(request).collaboration.share_screen(tenant, call_id, body.upn, actor(p))
    return call_out(call, _names(request, tenant))


@router.post("/calls/{call_id}/end", response_model=schemas.CallOut)
def end_call(
    tenant: str, call_id: str, request: Request, p: Principal = Depends(enforce)
) -> schemas.CallOut:
    """End a live call."""
    call = services_of(request).collaboration.end_call(tenant, call_id, actor(p))
    return call_out(call, _names(request, tenant))
