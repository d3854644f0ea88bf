"""Project bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from todo_common.schemas.base import ApiModel, Instant, ObjectIdStr, PatchModel, PublicModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(max_length=4000)]


class ProjectCreate(ApiModel):
    name: Name
    description: Description = ""
    owner_id: ObjectIdStr | None = None


class ProjectPatch(PatchModel):
    name: Name | None = None
    description: Description | None = None
    owner_id: ObjectIdStr | None = None


class ProjectReplace(ProjectPatch):
    """PUT: name and description are replaced; ownerId as in PATCH (ADMIN only)."""

    name: Name
    description: Description


class ProjectPublic(PublicModel):
    id: str
    name: str
    description: str
    owner_id: str
    is_active: bool
    version: int
    created_at: Instant
    updated_at: Instant
