"""Texts in Chinese and English: ``Accept-Language`` picks the language of every problem (title,
detail, field messages) and label, answers say which they speak, and the catalogues are complete
for every text marked in the code."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import abort
from flask.views import MethodView
from marshmallow import Schema, fields
from werkzeug.test import Client

from shared.errors import RuleViolation
from shared.http.app import create_service_app
from shared.http.blueprint import Blueprint
from shared.http.languages import Label
from shared.i18n import _, catalogue_directories
from shared.settings import Settings
from tests.park import Park, running_park

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [ROOT / "shared", ROOT / "gateway", *sorted(p for p in (ROOT / "services").iterdir() if p.is_dir())]


# The catalogues -------------------------------------------------------------------------------------


def marked(package: Path) -> dict[str, str]:
    """Every text marked in ``package``'s code, as pybabel extracts it (msgid → where)."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(package), method_map=[("**.py", "python")], keywords={"_": None}
    ):
        if isinstance(message, str):
            found.setdefault(message, f"{package.name}/{filename}:{lineno}")
    return found


def chinese(package: Path) -> dict[str, str]:
    path = package / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id and m.string and not m.fuzzy}  # type: ignore[misc]


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in Formatter().parse(text) if name is not None}


def test_the_kernel_has_texts_marked_and_catalogues_are_found() -> None:
    assert len(marked(ROOT / "shared")) > 50
    assert ROOT / "shared" / "locale" in catalogue_directories()


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_marked_text_has_its_chinese(package: Path) -> None:
    """Fails while a text marked in ``package`` lacks a translation in its own catalogue (or the
    kernel's): after marking texts, run the pybabel commands of docs/API.md and translate."""
    kernel = chinese(ROOT / "shared")
    own = chinese(package)
    missing = [
        f"{where}: {msgid!r}" for msgid, where in marked(package).items() if not (own.get(msgid) or kernel.get(msgid))
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)
    wrong = [
        f"{msgid!r} → {text!r}"
        for catalogue in (kernel, own)
        for msgid, text in catalogue.items()
        if placeholders(msgid) != placeholders(text)
    ]
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_a_text_has_one_chinese_across_the_catalogues() -> None:
    """The catalogues form one table (shared.i18n): a text translated in two packages must read the
    same in both, or which one a reader gets would depend on the order they are loaded in."""
    seen: dict[str, tuple[str, str]] = {}
    differ = []
    for package in PACKAGES:
        for msgid, text in chinese(package).items():
            first = seen.setdefault(msgid, (package.name, text))
            if first[1] != text:
                differ.append(f"{msgid!r}: {first[0]} {first[1]!r}, {package.name} {text!r}")
    assert not differ, "translated differently:\n" + "\n".join(differ)


class MarkedCalls(ast.NodeVisitor):
    def __init__(self) -> None:
        self.bad: list[int] = []

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "_":
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)) or len(node.args) > 1:
                self.bad.append(node.lineno)
        self.generic_visit(node)


def test_marked_texts_are_literals_with_named_placeholders() -> None:
    """pybabel can only extract a literal: ``_(f"...")`` or ``_("..." % x)`` would never be translated."""
    bad: list[str] = []
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            source = path.read_text()
            if "shared.i18n import" not in source:
                continue
            visitor = MarkedCalls()
            visitor.visit(ast.parse(source))
            bad += [f"{path.relative_to(ROOT)}:{line}" for line in visitor.bad]
    assert not bad, "marked texts that are not a literal with keyword placeholders: " + ", ".join(bad)


# Negotiation, through the platform ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "title", "content_language"),
    [
        ("zh-CN", "未找到", "zh-CN"),
        ("zh", "未找到", "zh-CN"),
        ("zh-Hans-CN", "未找到", "zh-CN"),
        ("en", "Not found", "en"),
        (None, "Not found", "en"),
        ("fr", "Not found", "en"),
        ("zh;q=0.2, en;q=0.8", "Not found", "en"),
        ("en;q=0.3, zh-CN;q=0.9", "未找到", "zh-CN"),
        ("zh;q=0, en", "Not found", "en"),
        ("fr, zh-TW;q=0.5", "未找到", "zh-CN"),
        ("*;q=0.5, zh;q=0.1", "Not found", "en"),  # any language is preferred to Chinese here
        ("zh-CN,zh;q=0.9,en;q=0.8", "未找到", "zh-CN"),  # what a browser in China sends
    ],
)
def test_accept_language_picks_the_language(
    park: Park, accept_language: str | None, title: str, content_language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    for path in ("/api/v1/nowhere", "/api/v1/booking/nowhere"):
        response = park.client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json["title"] == title
        assert response.headers["Content-Language"] == content_language
        assert "Accept-Language" in response.headers["Vary"]
        assert "Origin" in response.headers["Vary"]  # the edge's Vary is kept beside the app's


def test_every_answer_says_its_language(park: Park) -> None:
    response = park.as_user("admin", "GET", "/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in response.headers["Vary"]


ZH = {"Accept-Language": "zh-CN"}


def test_the_kernels_problems_speak_chinese(park: Park) -> None:
    malformed = park.client.get("/api/v1/booking/reservations", headers={**ZH, "Authorization": "Bearer t7e3.abc.def"})
    assert (malformed.json["title"], malformed.json["detail"]) == ("未登录", "持有者令牌格式错误。")

    not_json = park.as_user(
        "admin", "POST", "/api/v1/organisations", data=b'{"name": }', headers={**ZH, "Content-Type": "application/json"}
    )
    assert not_json.json["detail"] == "请求体不是有效的 JSON（第 1 行，第 10 列）。"

    typo = park.as_user("desk", "GET", "/api/v1/booking/reservations?stauts=confirmed", headers=ZH)
    assert typo.json["detail"].startswith("未知的查询参数：stauts。此接口接受：")
    assert typo.json["errors"] == {"stauts": ["未知参数。"]}

    missing = park.as_user("admin", "POST", "/api/v1/organisations", json={}, headers=ZH)
    assert missing.status_code == 422
    assert missing.json["title"] == "请求无效"
    assert missing.json["errors"]["name"] == ["缺少必填字段。"]

    # marshmallow's templated messages are recognised and filled in again, in Chinese.
    too_many = park.as_user("desk", "GET", "/api/v1/booking/reservations?page_size=5000", headers=ZH)
    assert too_many.status_code == 422
    assert too_many.json["errors"]["page_size"] == ["须大于或等于 1 且小于或等于 200。"]
    same_in_english = park.as_user("desk", "GET", "/api/v1/booking/reservations?page_size=5000")
    assert same_in_english.json["errors"]["page_size"] == [
        "Must be greater than or equal to 1 and less than or equal to 200."
    ]

    not_staff = park.as_user("alice", "GET", "/api/v1/booking/dead-letters", headers=ZH)
    assert not_staff.status_code == 403
    # Roles by their labels in the reader's language; their codes in "roles", for programs.
    assert not_staff.json["detail"] == "此操作需要以下角色之一：服务台工作人员、园区管理员。"
    assert not_staff.json["roles"] == ["desk_staff", "park_admin"]
    in_english = park.as_user("alice", "GET", "/api/v1/booking/dead-letters")
    assert in_english.json["detail"] == "This needs one of the roles: Service desk staff, Park administrator."
    assert in_english.json["roles"] == ["desk_staff", "park_admin"]

    wrong_method = park.client.delete("/api/v1/health", headers=ZH)
    assert (wrong_method.json["title"], wrong_method.json["detail"]) == ("不允许的方法", "此资源不接受该请求方法。")


def test_the_edges_problems_speak_chinese(seeded_platform: Path, tmp_path: Path) -> None:
    for park in running_park(seeded_platform, tmp_path, PARKHUB_MAX_BODY_BYTES="1024", PARKHUB_RATE_LIMIT="3/minute"):
        too_big = park.client.post(
            "/api/v1/organisations", data=b"x" * 2048, content_type="application/json", headers=ZH
        )
        assert too_big.status_code == 413
        assert too_big.json["title"] == "请求体过大"
        assert too_big.json["detail"] == "请求体超过了 1024 字节的上限。"
        assert too_big.headers["Content-Language"] == "zh-CN"
        assert {"Accept-Language", "Origin"} <= {v.strip() for v in too_big.headers["Vary"].split(",")}
        statuses = [park.client.get("/api/v1/health", headers=ZH).status_code for _ in range(4)]
        assert statuses[-1] == 429
        limited = park.client.get("/api/v1/health", headers=ZH)
        assert limited.json["title"] == "请求过多"
        assert limited.json["detail"].startswith("此客户端请求过多，请 ")
        english = park.client.get("/api/v1/health")
        assert english.json["detail"].startswith("Too many requests from this client; try again in ")


# The mechanism a service uses: marked domain errors and labels --------------------------------------


class RoomSchema(Schema):
    status = fields.String()
    status_label = Label("organisation-status", attribute="status")
    role = fields.String()
    role_label = Label("role", attribute="role")


def demo_app(settings: Settings) -> Client:
    blp = Blueprint("demo", __name__)

    @blp.route("/closed")
    class Closed(MethodView):
        def get(self) -> Any:
            raise RuleViolation(
                _("Space {name} is closed on {day}.", name="Hall A", day="2026-10-01"), code="rule/closed"
            )

    @blp.route("/plain")
    class Plain(MethodView):
        def get(self) -> Any:
            raise RuleViolation("A text nobody marked yet.")

    @blp.route("/aborted")
    class Aborted(MethodView):
        def get(self) -> Any:
            abort(409, "The room is being cleaned.")

    @blp.route("/labelled")
    class Labelled(MethodView):
        @blp.response(200, RoomSchema)
        def get(self) -> Any:
            return {"status": "suspended", "role": "park_admin"}

    app = create_service_app(
        "demo", settings=settings, database=None, inbox=None, blueprints=[blp], title="Demo", description="", ops=False
    )  # type: ignore[arg-type]
    return Client(app)


def test_a_domain_error_with_a_marked_message_is_rendered_per_request(settings: Settings, monkeypatch: Any) -> None:
    import shared.i18n as i18n

    i18n.translation("Not found", "zh")  # load the real catalogue first, then add one entry to it
    monkeypatch.setitem(
        i18n._tables,
        "zh",
        {**i18n._tables.get("zh", {}), "Space {name} is closed on {day}.": "{name} 在 {day} 不开放。"},
    )
    client = demo_app(settings)
    assert client.get("/api/v1/demo/closed").json["detail"] == "Space Hall A is closed on 2026-10-01."
    zh = client.get("/api/v1/demo/closed", headers=ZH).json
    assert zh["detail"] == "Hall A 在 2026-10-01 不开放。"
    assert zh["type"].endswith("/rule/closed")
    assert client.get("/api/v1/demo/plain", headers=ZH).json["detail"] == "A text nobody marked yet."


def test_labels_follow_the_language_and_codes_stay(settings: Settings) -> None:
    client = demo_app(settings)
    assert client.get("/api/v1/demo/labelled").json == {
        "status": "suspended",
        "status_label": "Suspended",
        "role": "park_admin",
        "role_label": "Park administrator",
    }
    assert client.get("/api/v1/demo/labelled", headers=ZH).json == {
        "status": "suspended",
        "status_label": "已暂停",
        "role": "park_admin",
        "role_label": "园区管理员",
    }


def test_an_http_error_with_its_own_words_keeps_them(settings: Settings) -> None:
    response = demo_app(settings).get("/api/v1/demo/aborted", headers=ZH)
    assert response.status_code == 409
    assert (response.json["title"], response.json["detail"]) == ("冲突", "The room is being cleaned.")
