"""The core endpoints: who am I, my tokens."""

from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from kontor.core.access import capabilities
from kontor.core.api.auth import token_revoke

router = Router(tags=["core"])


class MeOut(Schema):
    uuid: UUID
    username: str
    full_name: str
    email: str
    language: str
    time_zone: str
    role: str | None
    teams: list[str]
    capabilities: list[str]


@router.get("/me", response=MeOut, summary="The user behind the token")
def me(request: HttpRequest):
    user = request.auth
    return MeOut(
        uuid=user.uuid,
        username=user.username,
        full_name=user.get_full_name(),
        email=user.email,
        language=user.language,
        time_zone=user.time_zone,
        role=user.role.code if user.role else None,
        teams=[t.name for t in user.teams.all()],
        capabilities=sorted(capabilities(user)),
    )


class TokenOut(Schema):
    name: str
    prefix: str
    scope: str
    created_at: str
    last_used_at: str | None
    revoked: bool


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def tokens(request: HttpRequest):
    return [
        TokenOut(
            name=t.name,
            prefix=t.prefix,
            scope=t.scope,
            created_at=t.created_at.isoformat(),
            last_used_at=t.last_used_at.isoformat() if t.last_used_at else None,
            revoked=t.revoked_at is not None,
        )
        for t in request.auth.api_tokens.all()
    ]


@router.post("/tokens/{prefix}/revoke", response={204: None}, summary="Revoke one of my tokens")
def revoke(request: HttpRequest, prefix: str):
    token = get_object_or_404(request.auth.api_tokens, prefix=prefix)
    token_revoke(token=token)
    return Status(204, None)
