"""The PyPI ``harborapi`` client (pydantic models) works unchanged against harbor-api."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from harborapi import HarborAsyncClient
from harborapi.exceptions import BadRequest, NotFound, Unauthorized
from harborapi.models import (
    Configurations,
    ProjectMetadata,
    ProjectReq,
    UserCreationReq,
    UserGroup,
    UserProfile,
)

from tests.support.servers import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def _client(server, username="admin", secret=ADMIN_PASSWORD) -> HarborAsyncClient:
    return HarborAsyncClient(url=f"{server.url}/api/v2.0", username=username, secret=secret)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_system_info_and_current_user(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        info = await client.get_system_info()
        assert info.auth_mode == "db_auth" and info.harbor_version
        me = await client.get_current_user()
        assert me.username == "admin" and me.sysadmin_flag is True
        with pytest.raises(Unauthorized):
            await _client(sqlite_server, secret="wrong").get_current_user()

    asyncio.run(scenario())


def test_project_lifecycle(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        name = _name("hapi")
        location = await client.create_project(
            ProjectReq(project_name=name, metadata=ProjectMetadata(public=False, auto_scan=True))
        )
        assert location == f"/api/v2.0/projects/{name}"
        assert await client.project_exists(name)
        assert not await client.project_exists(_name("absent"))
        project = await client.get_project(name)
        assert project.name == name and project.metadata.public == "false"
        assert project.metadata.auto_scan == "true" and project.owner_name == "admin"
        assert (await client.get_project(project.project_id)).name == name
        listed = await client.get_projects(query=f"name={name}")
        assert [p.name for p in listed] == [name]
        await client.update_project(name, ProjectReq(metadata=ProjectMetadata(public=True)))
        assert (await client.get_project(name)).metadata.public == "true"
        summary = await client.get_project_summary(name)
        assert summary.project_admin_count == 1 and summary.repo_count == 0
        metadata = await client.get_project_metadata(name)
        assert metadata.public == "true"
        await client.update_project_metadata_entry(name, "auto_scan", {"auto_scan": "false"})
        assert await client.get_project_metadata_entry(name, "auto_scan") == {"auto_scan": "false"}
        await client.delete_project(name)
        with pytest.raises(NotFound):
            await client.get_project(name)

    asyncio.run(scenario())


def test_paginated_listing_follows_links(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        prefix = _name("pages")
        names = [f"{prefix}-{i}" for i in range(5)]
        for name in names:
            await client.create_project(ProjectReq(project_name=name))
        listed = await client.get_projects(name=prefix, page_size=2, sort="name")
        assert [p.name for p in listed] == names
        for name in names:
            await client.delete_project(name)

    asyncio.run(scenario())


def test_users(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        username = _name("hapiuser")
        location = await client.create_user(
            UserCreationReq(
                username=username,
                email=f"{username}@example.com",
                realname="Harbor API",
                password="Passw0rd!1",
                comment="via harborapi",
            )
        )
        user_id = int(location.rsplit("/", 1)[1])
        user = await client.get_user(user_id)
        assert user.username == username and user.comment == "via harborapi"
        assert (await client.get_user_by_username(username)).user_id == user_id
        everyone = await client.get_users(query=f"username={username}")
        assert [u.user_id for u in everyone] == [user_id]
        await client.update_user(user_id, UserProfile(realname="Renamed"))
        assert (await client.get_user(user_id)).realname == "Renamed"
        await client.set_user_password(user_id, new_password="Changed0!x")
        own = _client(sqlite_server, username, "Changed0!x")
        assert (await own.get_current_user()).user_id == user_id
        with pytest.raises(BadRequest):
            await own.set_user_password(user_id, new_password="weak", old_password="Changed0!x")
        await client.set_user_admin(user_id, True)
        assert (await own.get_current_user()).sysadmin_flag is True
        await client.set_user_admin(user_id, False)
        await client.delete_user(user_id)
        with pytest.raises(NotFound):
            await client.get_user(user_id)

    asyncio.run(scenario())


def test_project_members(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        project = _name("hapimem")
        username = _name("member")
        await client.create_project(ProjectReq(project_name=project))
        location = await client.create_user(
            UserCreationReq(
                username=username,
                email=f"{username}@example.com",
                realname="Member",
                password="Passw0rd!1",
            )
        )
        user_id = int(location.rsplit("/", 1)[1])
        member_location = await client.add_project_member_user(project, username, 2)
        member_id = int(member_location.rsplit("/", 1)[1])
        members = await client.get_project_members(project)
        assert {(m.entity_name, m.role_name) for m in members} == {
            ("admin", "projectAdmin"),
            (username, "developer"),
        }
        member = await client.get_project_member(project, member_id)
        assert member.entity_id == user_id and member.entity_type == "u"
        await client.update_project_member_role(project, member_id, 4)
        assert (await client.get_project_member(project, member_id)).role_name == "maintainer"
        found = await client.get_project_members(project, entity_name=username)
        assert [m.id for m in found] == [member_id]
        await client.remove_project_member(project, member_id)
        assert len(await client.get_project_members(project)) == 1
        await client.add_project_member_user(project, user_id, 3)
        await client.delete_project(project)
        await client.delete_user(user_id)

    asyncio.run(scenario())


def test_configurations(sqlite_server):
    async def scenario():
        client = _client(sqlite_server)
        config = await client.get_config()
        assert config.auth_mode.value == "db_auth"
        before = config.token_expiration.value
        await client.update_config(Configurations(token_expiration=before + 5))
        assert (await client.get_config()).token_expiration.value == before + 5
        await client.update_config(Configurations(token_expiration=before))

    asyncio.run(scenario())


def test_user_groups(sqlite_server):
    """Create, rename and delete a user group: the bodiless answers parse."""

    async def scenario():
        client = _client(sqlite_server)
        name = _name("grp")
        location = await client.create_usergroup(
            UserGroup(group_name=name, group_type=1, ldap_group_dn=f"cn={name},dc=example,dc=com")
        )
        group_id = int(location.rsplit("/", 1)[1])
        await client.update_usergroup(group_id, UserGroup(group_name=name + "-x", group_type=1))
        assert (await client.get_usergroup(group_id)).group_name == name + "-x"
        await client.delete_usergroup(group_id)
        with pytest.raises(NotFound):
            await client.get_usergroup(group_id)

    asyncio.run(scenario())
