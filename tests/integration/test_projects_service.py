"""ProjectService against the real database: who creates, owns, changes and sees a project.

Every refusal is checked twice: the error the caller gets, and the stored project (or the
empty collection) left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from tests.factories import WITHOUT_OUTBOX, make_project, make_user
from tests.integration.races import write_right_after_the_first_read
from todo_common import container
from todo_common.errors import DomainError, Forbidden, InvalidInput, NotFound, PreconditionFailed
from todo_common.principal import Principal, Role
from todo_common.records import Project, User
from todo_common.repositories.projects import ProjectRepository
from todo_common.schemas.projects import ProjectCreate, ProjectPatch, ProjectReplace
from todo_common.services.projects import ProjectService

pytestmark = pytest.mark.integration

Db = Database[dict[str, Any]]


@pytest.fixture
def service(clean: None) -> ProjectService:
    return container.project_service()


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, session_id=f"session-of-{user.id}")


def stored(db: Db, project_id: str) -> dict[str, Any]:
    # Without the audit outbox: bookkeeping the background sender clears at its own pace.
    doc = db.projects.find_one({"_id": ObjectId(project_id)}, WITHOUT_OUTBOX)
    assert doc is not None
    return doc


def create_body(**fields: Any) -> ProjectCreate:
    """A body as the API parses it from camelCase JSON."""
    return ProjectCreate.model_validate({"name": "Apollo", "description": "To the moon"} | fields)


def patch_body(**fields: Any) -> ProjectPatch:
    return ProjectPatch.model_validate(fields)


# -- creating ----------------------------------------------------------------------------------


def test_given_a_manager_when_they_create_a_project_then_they_own_it(
    db: Db, service: ProjectService
) -> None:
    manager = make_user(db, role=Role.MANAGER)

    project = service.create(principal_of(manager), create_body(name="  Apollo  "))

    assert project.owner_id == manager.id
    assert project.name == "Apollo"
    assert project.version == 1
    doc = stored(db, project.id)
    assert doc["ownerId"] == manager.id
    assert doc["name"] == "Apollo"
    assert doc["nameKey"] == "apollo"
    assert doc["description"] == "To the moon"
    assert doc["isActive"] is True
    assert doc["cascadeId"] is None
    assert doc["version"] == 1
    assert doc["createdAt"] == doc["updatedAt"]


def test_given_a_manager_when_they_name_their_own_id_as_owner_then_it_is_accepted(
    db: Db, service: ProjectService
) -> None:
    manager = make_user(db, role=Role.MANAGER)

    project = service.create(principal_of(manager), create_body(ownerId=manager.id))

    assert stored(db, project.id)["ownerId"] == manager.id


def test_given_a_manager_when_they_name_another_owner_then_403_and_nothing_is_created(
    db: Db, service: ProjectService
) -> None:
    manager = make_user(db, role=Role.MANAGER)
    other = make_user(db, role=Role.MANAGER)

    with pytest.raises(Forbidden):
        service.create(principal_of(manager), create_body(ownerId=other.id))

    assert db.projects.count_documents({}) == 0


def test_given_a_user_when_they_create_a_project_then_403_and_nothing_is_created(
    db: Db, service: ProjectService
) -> None:
    user = make_user(db)

    with pytest.raises(Forbidden):
        service.create(principal_of(user), create_body())

    assert db.projects.count_documents({}) == 0


@pytest.mark.parametrize("owner_role", [Role.MANAGER, Role.ADMIN])
def test_given_an_admin_when_they_name_an_active_manager_or_admin_then_that_user_owns_it(
    db: Db, service: ProjectService, owner_role: Role
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    owner = make_user(db, role=owner_role)

    project = service.create(principal_of(admin), create_body(ownerId=owner.id))

    assert project.owner_id == owner.id
    assert stored(db, project.id)["ownerId"] == owner.id


def test_given_an_admin_when_they_name_no_owner_then_they_own_it(
    db: Db, service: ProjectService
) -> None:
    admin = make_user(db, role=Role.ADMIN)

    project = service.create(principal_of(admin), create_body())

    assert stored(db, project.id)["ownerId"] == admin.id


@pytest.mark.parametrize(
    "unsuitable",
    [
        lambda db: make_user(db, role=Role.USER).id,
        lambda db: make_user(db, role=Role.MANAGER, is_active=False).id,
        lambda db: make_user(db, role=Role.ADMIN, is_active=False).id,
        lambda db: str(ObjectId()),
    ],
    ids=["a-user", "an-inactive-manager", "an-inactive-admin", "unknown-id"],
)
def test_given_an_admin_when_they_name_an_unsuitable_owner_then_422_on_owner_id(
    db: Db, service: ProjectService, unsuitable: Callable[[Db], str]
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    owner_id = unsuitable(db)

    with pytest.raises(InvalidInput) as caught:
        service.create(principal_of(admin), create_body(ownerId=owner_id))

    assert caught.value.status == 422
    assert [list(e.loc) for e in caught.value.errors] == [["body", "ownerId"]]
    assert db.projects.count_documents({}) == 0


# -- updating ----------------------------------------------------------------------------------


def test_given_its_owner_when_they_rename_the_project_then_the_version_grows_by_one(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner, name="Old")

    updated = service.update(
        principal_of(owner), project.id, patch_body(name="New Name"), if_match=1
    )

    assert (updated.name, updated.version) == ("New Name", 2)
    doc = stored(db, project.id)
    assert (doc["name"], doc["nameKey"], doc["version"]) == ("New Name", "new name", 2)
    assert doc["updatedAt"] > doc["createdAt"]


def test_given_an_update_that_changes_nothing_then_the_version_stays(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner, name="Same", description="d")

    result = service.update(
        principal_of(owner),
        project.id,
        ProjectReplace.model_validate({"name": "Same", "description": "d", "ownerId": owner.id}),
        if_match=None,
    )

    assert result.version == 1
    assert stored(db, project.id)["version"] == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.USER])
def test_given_someone_not_the_owner_when_they_update_delete_or_restore_then_403_unchanged(
    db: Db, service: ProjectService, role: Role
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner, name="Mine")
    stranger = principal_of(make_user(db, role=role))
    before = stored(db, project.id)

    with pytest.raises(Forbidden):
        service.update(stranger, project.id, patch_body(name="Theirs"), if_match=None)
    with pytest.raises(Forbidden):
        service.delete(stranger, project.id, if_match=None)
    with pytest.raises(Forbidden):
        service.restore(stranger, project.id, if_match=None)

    assert stored(db, project.id) == before


def test_given_an_admin_when_they_update_anyones_project_then_it_changes(
    db: Db, service: ProjectService
) -> None:
    project = make_project(db, make_user(db, role=Role.MANAGER))
    admin = principal_of(make_user(db, role=Role.ADMIN))

    service.update(admin, project.id, patch_body(description="by the admin"), if_match=None)

    assert stored(db, project.id)["description"] == "by the admin"


def test_given_the_owner_when_they_change_owner_id_then_403_and_nothing_changes(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    successor = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    before = stored(db, project.id)

    with pytest.raises(Forbidden) as caught:
        service.update(
            principal_of(owner),
            project.id,
            patch_body(ownerId=successor.id, name="Renamed too"),
            if_match=None,
        )

    assert "ownerId" in caught.value.detail
    assert stored(db, project.id) == before


def test_given_the_owner_when_they_send_their_own_owner_id_then_it_is_not_a_change(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner, name="Before")

    service.update(
        principal_of(owner), project.id, patch_body(ownerId=owner.id, name="After"), if_match=None
    )

    doc = stored(db, project.id)
    assert (doc["ownerId"], doc["name"], doc["version"]) == (owner.id, "After", 2)


def test_given_an_admin_when_they_hand_a_project_to_another_manager_then_the_owner_changes(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    successor = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    admin = principal_of(make_user(db, role=Role.ADMIN))

    service.update(admin, project.id, patch_body(ownerId=successor.id), if_match=1)

    doc = stored(db, project.id)
    assert (doc["ownerId"], doc["version"]) == (successor.id, 2)
    # and the new owner may now write it, the old one may not
    service.update(principal_of(successor), project.id, patch_body(name="Ours"), if_match=None)
    with pytest.raises(Forbidden):
        service.update(principal_of(owner), project.id, patch_body(name="Back"), if_match=None)


@pytest.mark.parametrize(
    "unsuitable",
    [
        lambda db: make_user(db, role=Role.USER).id,
        lambda db: make_user(db, role=Role.MANAGER, is_active=False).id,
        lambda db: str(ObjectId()),
    ],
    ids=["a-user", "an-inactive-manager", "unknown-id"],
)
def test_given_an_admin_when_they_hand_a_project_to_an_unsuitable_owner_then_422_unchanged(
    db: Db, service: ProjectService, unsuitable: Callable[[Db], str]
) -> None:
    project = make_project(db, make_user(db, role=Role.MANAGER))
    admin = principal_of(make_user(db, role=Role.ADMIN))
    before = stored(db, project.id)

    with pytest.raises(InvalidInput) as caught:
        service.update(admin, project.id, patch_body(ownerId=unsuitable(db)), if_match=None)

    assert [list(e.loc) for e in caught.value.errors] == [["body", "ownerId"]]
    assert stored(db, project.id) == before


def test_given_a_stale_if_match_when_the_owner_updates_then_412_unchanged(
    db: Db, service: ProjectService
) -> None:
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner)
    service.update(principal_of(owner), project.id, patch_body(name="v2"), if_match=1)
    before = stored(db, project.id)

    with pytest.raises(PreconditionFailed):
        service.update(principal_of(owner), project.id, patch_body(name="v3"), if_match=1)
    with pytest.raises(PreconditionFailed):
        service.delete(principal_of(owner), project.id, if_match=1)

    assert stored(db, project.id) == before


def test_given_no_if_match_when_another_write_lands_between_read_and_write_then_no_412(
    db: Db, service: ProjectService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the owner's PATCH without If-Match, and an ADMIN's edit landing right after the
    # service has read the project
    owner = make_user(db, role=Role.MANAGER)
    project = make_project(db, owner, name="Original", description="original")
    write_right_after_the_first_read(
        monkeypatch,
        ProjectRepository,
        lambda: ProjectRepository(db, container.server()).update(
            project.id, {"description": "by the admin"}
        ),
    )

    # When the PATCH is applied
    try:
        service.update(principal_of(owner), project.id, patch_body(name="Renamed"), None)
    except DomainError as exc:
        # Then (SPEC §6: 412 is for an If-Match mismatch) the client, who sent no If-Match,
        # does not get a 412: the users service retries such a lost race on the fresh record
        pytest.fail(f"a PATCH without If-Match was answered {exc.status}: {exc.detail}")

    # and both writes are kept
    doc = stored(db, project.id)
    assert (doc["name"], doc["description"], doc["version"]) == ("Renamed", "by the admin", 3)


# -- visibility --------------------------------------------------------------------------------


@pytest.fixture
def deleted_project(db: Db) -> tuple[User, Project]:
    owner = make_user(db, role=Role.MANAGER)
    return owner, make_project(db, owner, name="Gone", is_active=False)


@pytest.mark.parametrize("role", [Role.USER, Role.MANAGER])
def test_given_an_inactive_project_then_others_get_404(
    db: Db, service: ProjectService, deleted_project: tuple[User, Project], role: Role
) -> None:
    _, project = deleted_project
    other = principal_of(make_user(db, role=role))

    with pytest.raises(NotFound):
        service.get(other, project.id)


def test_given_an_inactive_project_then_its_owner_and_an_admin_see_it(
    db: Db, service: ProjectService, deleted_project: tuple[User, Project]
) -> None:
    owner, project = deleted_project
    admin = principal_of(make_user(db, role=Role.ADMIN))

    assert service.get(principal_of(owner), project.id).is_active is False
    assert service.get(admin, project.id).id == project.id


def test_given_inactive_projects_then_only_an_admin_or_the_owner_asking_for_theirs_lists_them(
    db: Db, service: ProjectService, deleted_project: tuple[User, Project]
) -> None:
    owner, _ = deleted_project
    other_manager = make_user(db, role=Role.MANAGER)
    make_project(db, other_manager, name="Also gone", is_active=False)
    make_project(db, owner, name="Alive")
    admin = principal_of(make_user(db, role=Role.ADMIN))

    def inactive(principal: Principal, owner_id: str | None) -> list[str]:
        page = service.list(
            principal,
            owner_id=owner_id,
            q=None,
            is_active=False,
            sort="createdAt",
            limit=50,
            cursor=None,
        )
        return [p.name for p in page.items]

    assert inactive(admin, None) == ["Gone", "Also gone"]
    assert inactive(principal_of(owner), owner.id) == ["Gone"]
    with pytest.raises(Forbidden):
        inactive(principal_of(owner), None)
    with pytest.raises(Forbidden):
        inactive(principal_of(other_manager), owner.id)
    with pytest.raises(Forbidden):
        inactive(principal_of(make_user(db)), None)


def test_given_a_malformed_or_unknown_id_then_404(db: Db, service: ProjectService) -> None:
    admin = principal_of(make_user(db, role=Role.ADMIN))

    for project_id in ("not-an-id", str(ObjectId()), "0" * 23):
        with pytest.raises(NotFound):
            service.get(admin, project_id)
        with pytest.raises(NotFound):
            service.update(admin, project_id, patch_body(name="x"), if_match=None)
