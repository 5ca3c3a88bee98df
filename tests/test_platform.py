"""The embedded platform as a client sees it: one WSGI app in front of everything, a live bus."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.routes import LARGE_BODIES
from shared.settings import SERVICES
from tests.park import Park, running_park

PROBLEM = "application/problem+json"


def test_health_lists_every_service_database_and_the_bus(park: Park) -> None:
    response = park.client.get("/api/v1/health")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "ok"
    assert set(body["services"]) == {"gateway", *SERVICES}
    for service in body["services"].values():
        assert service["status"] == "ok"
        assert service["database"]["status"] == "ok"
    assert body["bus"]["status"] == "ok"


def test_a_registered_organisation_reaches_every_directory_within_a_second(park: Park) -> None:
    created = park.as_user(
        "admin",
        "POST",
        "/api/v1/organisations",
        json={"name": "Chengdu Synthetic Biology Works", "name_zh": "成都合成生物工坊", "kind": "tenant"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    org = created.json
    started = time.monotonic()
    pending = set(SERVICES)
    while pending and time.monotonic() - started < 1.0:
        for service in sorted(pending):
            entry = park.as_user("desk", "GET", f"/api/v1/{service}/directory/organisations/{org['id']}")
            if entry.status_code == 200:
                assert entry.json["name"] == "Chengdu Synthetic Biology Works"
                assert entry.json["name_zh"] == "成都合成生物工坊"
                assert entry.json["kind"] == "tenant"
                pending.discard(service)
        time.sleep(0.01)
    assert not pending, f"not in {pending} after a second"

    updated = park.as_user(
        "admin",
        "PATCH",
        f"/api/v1/organisations/{org['id']}",
        json={"status": "suspended"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert park.platform.bus.wait_until_idle(5)
    for service in SERVICES:
        entry = park.as_user("desk", "GET", f"/api/v1/{service}/directory/organisations/{org['id']}")
        assert entry.json["status"] == "suspended"
        assert entry.json["version"] == updated.json["version"]


def test_directories_are_for_staff_only(park: Park) -> None:
    response = park.as_user("bob", "GET", "/api/v1/booking/directory/organisations")
    assert response.status_code == 403
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/api/v1/booking/nowhere", 404),
        ("GET", "/favicon.ico", 404),
        ("DELETE", "/api/v1/health", 405),
        ("PUT", "/api/v1/auth/token", 405),
        ("GET", "/api/v1/finance/directory/organisations", 401),
    ],
)
def test_every_error_is_problem_json(park: Park, method: str, path: str, status: int) -> None:
    response = park.client.open(path, method=method)
    assert response.status_code == status
    assert response.content_type == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]


def test_request_ids_are_kept_or_made_and_echoed(park: Park) -> None:
    assert park.client.get("/api/v1/health", headers={"X-Request-ID": "desk-42"}).headers["X-Request-ID"] == "desk-42"
    made = park.client.get("/api/v1/notify/health").headers["X-Request-ID"]
    assert len(made) == 36
    for bad in ("no spaces <please>", "x" * 129):
        assert park.client.get("/api/v1/health", headers={"X-Request-ID": bad}).headers["X-Request-ID"] != bad


def test_the_request_id_becomes_the_events_correlation_id(park: Park) -> None:
    created = park.as_user(
        "admin",
        "POST",
        "/api/v1/organisations",
        json={"name": "West China Health Data", "kind": "tenant"},
        headers={"X-Request-ID": "portal-7f3a"},
    )
    assert created.status_code == 201
    outbox = park.platform.gateway_database.messaging.outbox
    with park.platform.gateway_database.reading() as session:
        envelopes = [row.envelope for row in session.execute(outbox.select())]
    assert any('"correlationid":"portal-7f3a"' in e for e in envelopes)


def test_a_body_over_the_limit_is_refused(seeded_platform: Path, tmp_path: Path) -> None:
    for park in running_park(seeded_platform, tmp_path, PARKHUB_MAX_BODY_BYTES="1024"):
        response = park.client.post(
            "/api/v1/organisations",
            data=b"x" * 2048,
            content_type="application/json",
            headers={"X-Request-ID": "big-1"},
        )
        assert response.status_code == 413
        assert response.content_type == PROBLEM
        assert response.json["request_id"] == "big-1"

        # An upload route (gateway.routes.LARGE_BODIES) takes more: the body reaches consulting,
        # which asks for a token; past the upload's own limit the edge refuses it, naming that limit.
        message = "/api/v1/consulting/cases/00000000-0000-4000-8000-000000000001/messages"
        upload = park.client.post(message, data=b"x" * 2048, content_type="multipart/form-data; boundary=x")
        assert upload.status_code == 401
        (large,) = (b for b in LARGE_BODIES if b.service == "consulting")
        too_large = park.client.post(message, data=b"x" * (large.limit + 1), content_type="application/json")
        assert too_large.status_code == 413
        assert str(large.limit) in too_large.json["detail"]


def test_the_rate_limit_answers_429_with_retry_after(seeded_platform: Path, tmp_path: Path) -> None:
    for park in running_park(seeded_platform, tmp_path, PARKHUB_RATE_LIMIT="5/minute"):
        statuses = [park.client.get("/api/v1/booking/health").status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429] * 3
        limited = park.client.get("/api/v1/booking/health")
        assert limited.content_type == PROBLEM
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Another client (another token) has its own budget...
        assert park.client.get("/api/v1/booking/health", headers={"Authorization": "Bearer other"}).status_code == 200
        # ...but one address inventing tokens gets ten clients' worth in all, not a fresh budget each.
        spoofed = [
            park.client.get("/api/v1/booking/health", headers={"Authorization": f"Bearer fake{n}"}).status_code
            for n in range(60)
        ]
        assert spoofed.count(200) == 49 and set(spoofed[49:]) == {429}


def test_cors_preflight_for_the_portal_origin(park: Park) -> None:
    response = park.client.options(
        "/api/v1/organisations",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "If-Match" in response.headers["Access-Control-Allow-Headers"]
    stranger = park.client.options(
        "/api/v1/organisations", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert stranger.headers["Vary"] == "Origin"


def test_one_merged_openapi_document_and_a_docs_page(park: Park) -> None:
    spec = park.client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    paths = set(spec["paths"])
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/organisations" in paths
    for service in SERVICES:
        assert f"/api/v1/{service}/directory/organisations/{{org_id}}" in paths
    docs = park.client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    asset = park.client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("[" * 50_000 + "]" * 50_000, "body-too-deep"),
        ('{"name": "' + "\\ud800" + '", "kind": "tenant"}', "value-not-storable"),
    ],
)
def test_hostile_bodies_are_refused_with_a_problem_and_write_nothing(park: Park, body: str, code: str) -> None:
    before = park.as_user("admin", "GET", "/api/v1/organisations").json["total"]
    response = park.as_user(
        "admin", "POST", "/api/v1/organisations", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    assert response.json["type"].endswith(code)
    assert park.as_user("admin", "GET", "/api/v1/organisations").json["total"] == before


def test_if_match_compares_strongly(park: Park) -> None:
    org = park.as_user("admin", "GET", "/api/v1/organisations?page_size=1").json["items"][0]
    current = park.as_user("admin", "GET", f"/api/v1/organisations/{org['id']}").headers["ETag"]
    weak = park.as_user(
        "admin",
        "PATCH",
        f"/api/v1/organisations/{org['id']}",
        json={"name_zh": "弱"},
        headers={"If-Match": f"W/{current}"},
    )
    assert weak.status_code == 412 and weak.content_type == PROBLEM


def test_health_tells_when_a_service_database_is_gone(park: Park) -> None:
    var = park.platform.settings.var_dir
    for suffix in ("", "-wal", "-shm"):
        (var / f"finance.db{suffix}").unlink(missing_ok=True)
    response = park.client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM and response.json["type"].endswith("/problems/unavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["bus"]["status"] == "ok" and response.json["errors"] == []
    finance = response.json["services"]["finance"]
    assert finance["status"] == "degraded" and finance["database"]["error"] == "database file missing"
    assert response.json["services"]["booking"]["status"] == "ok"


def test_the_edge_lets_through_what_the_upload_route_reads() -> None:
    """The edge's limit for a message with files is the one consulting's route enforces: a
    smaller one would refuse files consulting takes, a larger one pass bodies it refuses."""
    from services.consulting.api.messages import UPLOAD_LIMIT
    from services.finance.api.documents import UPLOAD_LIMIT as DOCUMENT_LIMIT

    limits = {large.service: large.limit for large in LARGE_BODIES}
    assert limits == {"consulting": UPLOAD_LIMIT, "finance": DOCUMENT_LIMIT}


def test_the_platform_health_gives_each_services_warnings_in_the_readers_language(park: Park) -> None:
    """The gateway asks each service for its health in the client's language: consulting's
    calendar warnings (no year held yet on a fresh platform) read as consulting's own health does."""
    for language in ("en", "zh-CN"):
        headers = {"Accept-Language": language}
        platform = park.client.get("/api/v1/health", headers=headers).json
        own = park.client.get("/api/v1/consulting/health", headers=headers).json
        assert own["warnings"], "a fresh platform's business calendar holds no year"
        assert platform["services"]["consulting"]["warnings"] == own["warnings"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in own["warnings"])
