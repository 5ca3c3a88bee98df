"""The gateway speaks Chinese and English: its problems (404, 403, 409, 422 rules, field messages),
OAuth errors, labels beside codes and ``display_name`` follow ``Accept-Language``; English stays
the default. The views every service shares (dead letters, the directory) too, and they answer
park time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.notify.models import database as notify_database
from shared.bus.inbox import Inbox, Outcome
from shared.events import Event
from tests.park import Park

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
ORGS = "/api/v1/organisations"
REGISTERED = "identity.organisation.registered"


def both(client: FlaskClient, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> tuple[Any, Any]:
    """The same request in Chinese and in English: ``(zh answer, en answer)``."""
    zh = client.open(path, method=method, headers={**headers, **ZH}, **kwargs)
    en = client.open(path, method=method, headers={**headers, **EN}, **kwargs)
    assert zh.status_code == en.status_code
    assert zh.headers["Content-Language"] == "zh-CN" and en.headers["Content-Language"] == "en"
    return zh, en


def org_of(client: FlaskClient, bearer: Any, username: str) -> dict[str, Any]:
    organisation: dict[str, Any] = client.get("/api/v1/me", headers=bearer(username)).json["organisation"]
    return organisation


# Problems ------------------------------------------------------------------------------------------


def test_a_missing_organisation_is_a_404_in_the_readers_language(client: FlaskClient, bearer: Any) -> None:
    missing = str(uuid.uuid4())
    zh, en = both(client, "GET", f"{ORGS}/{missing}", bearer("admin"))
    assert zh.status_code == 404
    assert (zh.json["title"], zh.json["detail"]) == ("未找到", f"机构 {missing} 不存在。")
    assert (en.json["title"], en.json["detail"]) == ("Not found", f"No organisation {missing}.")
    assert zh.json["type"] == en.json["type"]  # codes never change with the language


def test_a_refused_role_is_a_403_in_the_readers_language(client: FlaskClient, bearer: Any) -> None:
    # The role check is the kernel's ``requires`` (its wording is the kernel's): what the gateway
    # owes is that it speaks the reader's language, and that it comes before the body is read.
    for method, body in (("GET", None), ("POST", {})):
        zh, en = both(client, method, ORGS, bearer("bob"), json=body)
        assert zh.status_code == 403, zh.get_data(as_text=True)
        assert (zh.json["title"], en.json["title"]) == ("无权操作", "Not allowed")
        assert zh.json["detail"] != en.json["detail"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json["detail"]), zh.json["detail"]
        assert en.json["detail"].isascii() and "errors" not in zh.json


def test_a_taken_username_is_a_409_naming_it_in_both_languages(client: FlaskClient, bearer: Any) -> None:
    body = {
        "username": "alice",
        "display_name": "Another Alice",
        "password": "long-enough-1",
        "roles": ["tenant_member"],
    }
    zh, en = both(client, "POST", "/api/v1/users", bearer("alice"), json=body)
    assert zh.status_code == 409
    assert (zh.json["title"], zh.json["detail"]) == ("冲突", "用户名 'alice' 已被占用。")
    assert en.json["detail"] == "The username 'alice' is taken."
    assert zh.json["type"].endswith("/username-taken")


def test_a_broken_rule_is_a_422_with_its_values_in_both_languages(client: FlaskClient, bearer: Any) -> None:
    tenant = org_of(client, bearer, "alice")
    body = {
        "username": "desk-in-disguise",
        "display_name": "Not Staff",
        "password": "long-enough-1",
        "organisation_id": tenant["id"],
        "roles": ["desk_staff"],
    }
    zh, en = both(client, "POST", "/api/v1/users", bearer("admin"), json=body)
    assert zh.status_code == 422
    assert (
        zh.json["detail"] == "角色 desk_staff 不适用于类型为 tenant 的机构（可用角色：tenant_admin, tenant_member）。"
    )
    assert en.json["detail"] == (
        "Roles desk_staff do not fit an organisation of kind tenant (allowed: tenant_admin, tenant_member)."
    )


def test_our_field_messages_are_in_the_readers_language(client: FlaskClient, bearer: Any) -> None:
    body = {"username": "x", "display_name": "", "password": "short", "roles": []}
    zh, en = both(client, "POST", "/api/v1/users", bearer("admin"), json=body)
    assert zh.status_code == 422
    assert zh.json["errors"] == {
        "username": ["2 至 80 个字符，只能是字母、数字、“.”、“_”或“-”。"],
        "display_name": ["须为 1 至 200 个字符。"],
        "password": ["须为 10 至 200 个字符。"],
        "roles": ["请指定 1 至 5 个角色。"],
    }
    assert en.json["errors"] == {
        "username": ["2-80 letters, digits, '.', '_' or '-'."],
        "display_name": ["Between 1 and 200 characters."],
        "password": ["Between 10 and 200 characters."],
        "roles": ["Give between 1 and 5 roles."],
    }


# OAuth errors --------------------------------------------------------------------------------------


def test_oauth_errors_describe_themselves_in_the_readers_language(client: FlaskClient) -> None:
    wrong = {"grant_type": "password", "username": "alice", "password": "not-her-password"}
    zh, en = both(client, "POST", "/api/v1/auth/token", {}, data=wrong)
    assert zh.status_code == 400
    assert zh.json["error"] == en.json["error"] == "invalid_grant"
    assert zh.json["title"] == "OAuth 错误" and en.json["title"] == "OAuth error"
    assert zh.json["error_description"] == zh.json["detail"] == "用户名或密码错误，或账号已被停用。"
    assert en.json["error_description"] == "The username or password is wrong, or the account is disabled."

    zh, en = both(client, "POST", "/api/v1/auth/token", {}, data={"grant_type": "implicit"})
    assert zh.json["error_description"] == (
        "grant_type 'implicit' 不是 password、client_credentials、refresh_token 之一。"
    )
    assert en.json["error_description"] == (
        "grant_type 'implicit' is not one of password, client_credentials, refresh_token."
    )

    zh, en = both(client, "POST", "/api/v1/auth/token", {}, data={"grant_type": "password"})
    assert zh.json["error_description"] == "请发送 username 和 password。"
    assert en.json["error_description"] == "Send username and password."


# Labels and names -----------------------------------------------------------------------------------


def test_me_labels_its_codes_and_names_the_organisation_in_the_readers_language(
    client: FlaskClient, bearer: Any
) -> None:
    zh, en = both(client, "GET", "/api/v1/me", bearer("bob"))
    assert (zh.json["kind"], zh.json["kind_label"], en.json["kind_label"]) == ("user", "用户账号", "User account")
    assert (zh.json["roles"], zh.json["role_labels"]) == (["tenant_member"], ["入驻企业成员"])
    assert en.json["role_labels"] == ["Tenant member"]
    organisation = zh.json["organisation"]
    assert organisation["kind"] == "tenant" and organisation["kind_label"] == "入驻企业"
    assert organisation["status"] == "active" and organisation["status_label"] == "正常"
    assert organisation["display_name"] == organisation["name_zh"] == "成都康晟细胞治疗有限公司"
    assert en.json["organisation"]["display_name"] == en.json["organisation"]["name"]
    assert en.json["organisation"]["name"] == "Kangcheng Cell Therapeutics Co., Ltd."
    assert en.json["organisation"]["name_zh"] == organisation["name_zh"]  # data is never translated


def test_display_name_falls_back_to_the_name_without_a_chinese_one(client: FlaskClient, bearer: Any) -> None:
    created = client.post(ORGS, json={"name": "Nameless Labs", "kind": "tenant"}, headers=bearer("admin"))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["display_name"] == "Nameless Labs"
    zh, _en = both(client, "GET", f"{ORGS}/{created.json['id']}", bearer("admin"))
    assert (zh.json["name_zh"], zh.json["display_name"]) == (None, "Nameless Labs")

    listed = client.get(ORGS + "?q=Kangcheng", headers={**bearer("desk"), **ZH}).json["items"]
    assert [(o["display_name"], o["kind_label"]) for o in listed] == [("成都康晟细胞治疗有限公司", "入驻企业")]


def test_users_and_api_clients_label_their_roles(client: FlaskClient, bearer: Any) -> None:
    users = client.get("/api/v1/users?q=desk", headers={**bearer("admin"), **ZH}).json["items"]
    assert users  # the demo desk staff (desk, desk2)
    assert {(tuple(u["roles"]), tuple(u["role_labels"])) for u in users} == {(("desk_staff",), ("服务台工作人员",))}
    api_client = client.get("/api/v1/api-clients/shudu-bank-demo", headers={**bearer("admin"), **ZH}).json
    assert (api_client["roles"], api_client["role_labels"]) == (["partner_agent"], ["合作机构人员"])


# The views every service shares: dead letters and the directory -------------------------------------


def test_dead_letters_answer_park_time_and_a_replay_outcome_label(park: Park) -> None:
    event = Event(
        type=REGISTERED,
        source="/parkhub/gateway",
        data={"id": str(uuid.uuid4()), "name": "Replay Bio", "kind": "tenant", "status": "active", "version": 1},
    )

    def broken(_event: Event, **_: object) -> None:
        raise ConnectionError("directory store unavailable")

    parked = Inbox("notify", notify_database(park.platform.settings), {REGISTERED: broken})
    assert parked.deliver(event.to_dict(), attempt=parked.retry.attempts) is Outcome.DEAD_LETTERED

    listed = park.as_user("desk", "GET", "/api/v1/notify/dead-letters", headers=ZH)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    (letter,) = [item for item in listed.json["items"] if item["event_id"] == event.id]
    assert letter["failed_at"].endswith("+08:00")  # park time, also from SQLite's naive values

    replayed = park.as_user("admin", "POST", f"/api/v1/notify/dead-letters/{letter['id']}/replay", headers=ZH)
    assert replayed.status_code == 200, replayed.get_data(as_text=True)
    assert (replayed.json["outcome"], replayed.json["outcome_label"]) == ("handled", "已处理")
    again = park.as_user("admin", "POST", f"/api/v1/notify/dead-letters/{letter['id']}/replay", headers=EN)
    assert (again.json["outcome"], again.json["outcome_label"]) == ("duplicate", "Already handled")

    history = park.as_user("desk", "GET", "/api/v1/notify/dead-letters?include_replayed=true", headers=ZH).json
    (done,) = [item for item in history["items"] if item["id"] == letter["id"]]
    assert done["replayed_at"].endswith("+08:00")

    missing = park.as_user("admin", "POST", "/api/v1/notify/dead-letters/999999/replay", headers=ZH)
    assert missing.status_code == 404
    assert missing.json["detail"] == "notify 中没有编号为 999999 的死信。"


@pytest.mark.parametrize("service", ["booking", "finance"])
def test_directory_entries_answer_labels_display_names_and_park_time(park: Park, service: str) -> None:
    path = f"/api/v1/{service}/directory/organisations"
    # The seed's identity events reach the directories over the bus once the platform runs.
    assert park.platform.bus.wait_until_idle(10)
    zh = park.as_user("desk", "GET", path + "?kind=law_firm", headers=ZH)
    assert zh.status_code == 200, zh.get_data(as_text=True)
    (entry,) = zh.json["items"]
    assert (entry["kind"], entry["kind_label"]) == ("law_firm", "律师事务所")
    assert (entry["status"], entry["status_label"]) == ("active", "正常")
    assert entry["display_name"] == entry["name_zh"] == "天府桥律师事务所"
    assert entry["updated_at"].endswith("+08:00")

    en = park.as_user("desk", "GET", f"{path}/{entry['id']}", headers=EN).json
    assert (en["display_name"], en["kind_label"]) == ("Tianfu Bridge Law Firm", "Law firm")

    missing = str(uuid.uuid4())
    not_there = park.as_user("desk", "GET", f"{path}/{missing}", headers=ZH)
    assert not_there.status_code == 404
    assert not_there.json["detail"] == f"{service} 的机构名录中（尚）没有机构 {missing}。"
