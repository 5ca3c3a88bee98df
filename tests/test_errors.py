"""What a new user hits when they get a request wrong: bodies, query strings and tokens, through
the embedded platform as a client sees it. Every answer is a problem+json that says what is wrong
in the client's terms (no decoder internals, no werkzeug boilerplate) and changes nothing."""

from __future__ import annotations

import pytest

from tests.park import Park

PROBLEM = "application/problem+json"
BASE = "https://parkhub.tianfu-lifescience.cn/problems/"
ORGANISATIONS = "/api/v1/organisations"
RESERVATIONS = "/api/v1/booking/reservations"


def organisation_count(park: Park) -> int:
    listed = park.as_user("admin", "GET", ORGANISATIONS)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    return int(listed.json["total"])


def post_organisation(park: Park, body: bytes, content_type: str) -> object:
    return park.as_user("admin", "POST", ORGANISATIONS, data=body, headers={"Content-Type": content_type})


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.content_type == PROBLEM  # type: ignore[attr-defined]
    body = response.json  # type: ignore[attr-defined]
    assert body["type"] == BASE + code
    assert body["status"] == status
    assert "browser (or proxy)" not in body["detail"]
    return body  # type: ignore[no-any-return]


# Bodies ----------------------------------------------------------------------------------------


def test_malformed_json_says_where_it_stops_being_json(park: Park) -> None:
    before = organisation_count(park)
    body = assert_problem(
        post_organisation(park, b'{\n  "name": "Chengdu Cell",\n  "kind": tenant\n}', "application/json"),
        400,
        "body-not-json",
    )
    assert body["detail"] == "The body is not valid JSON (line 3, column 11)."
    assert (body["line"], body["column"]) == (3, 11)
    assert organisation_count(park) == before


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(park: Park, constant: bytes) -> None:
    response = post_organisation(
        park, b'{"name": "x", "kind": "tenant", "extra": ' + constant + b"}", "application/json"
    )
    assert_problem(response, 400, "body-not-json")


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "成都细胞"}'.encode("gb18030"),  # a Chinese Windows client's default encoding
        '{"name": "Société Générale Chengdu", "kind": "bank"}'.encode("latin-1"),
        b'{"name": "\xb7\xb7"}',
    ],
    ids=["gb18030", "latin-1", "stray-bytes"],
)
def test_a_body_that_is_not_utf8_is_refused_as_such(park: Park, body: bytes) -> None:
    before = organisation_count(park)
    problem = assert_problem(post_organisation(park, body, "application/json"), 400, "body-not-utf8")
    assert "UTF-8" in problem["detail"]  # type: ignore[operator]
    assert "codec" not in problem["detail"]  # type: ignore[operator]
    assert organisation_count(park) == before


def test_a_json_body_with_a_utf8_byte_order_mark_is_accepted(park: Park) -> None:
    body = '\ufeff{"name": "Chengdu BOM Labs", "kind": "tenant"}'.encode()
    response = post_organisation(park, body, "application/json")
    assert response.status_code == 201, response.get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"],
)
def test_a_body_of_another_media_type_is_415_naming_json(park: Park, content_type: str) -> None:
    before = organisation_count(park)
    body = assert_problem(
        post_organisation(park, b'{"name": "Chengdu Cell", "kind": "tenant"}', content_type),
        415,
        "unsupported-media-type",
    )
    assert "application/json" in body["detail"]  # type: ignore[operator]
    assert "errors" not in body  # not a list of "missing fields"
    assert organisation_count(park) == before


def test_a_patch_of_another_media_type_says_what_patch_accepts(park: Park) -> None:
    created = park.as_user("admin", "POST", ORGANISATIONS, json={"name": "Chengdu Patch Labs", "kind": "tenant"})
    assert created.status_code == 201
    response = park.as_user(
        "admin",
        "PATCH",
        f"{ORGANISATIONS}/{created.json['id']}",
        data=b"status=suspended",
        headers={"Content-Type": "application/x-www-form-urlencoded", "If-Match": created.headers["ETag"]},
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert response.headers["Accept-Patch"] == "application/json"


def test_json_with_a_suffix_type_is_json(park: Park) -> None:
    response = post_organisation(park, b'{"name": "Chengdu Suffix Labs", "kind": "tenant"}', "application/merge+json")
    assert response.status_code == 201, response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_missing_fields_are_still_422_per_field(park: Park) -> None:
    body = assert_problem(post_organisation(park, b"{}", "application/json"), 422, "validation-failed")
    assert body["errors"]["name"] == ["Missing data for required field."]  # type: ignore[index]


# Query strings ------------------------------------------------------------------------------------


def test_a_misspelt_filter_is_refused_naming_it(park: Park) -> None:
    response = park.as_user("desk", "GET", RESERVATIONS + "?scope=all&stauts=confirmed")
    body = assert_problem(response, 400, "unknown-parameter")
    assert body["parameters"] == ["stauts"]
    assert "stauts" in body["detail"]  # type: ignore[operator]
    assert "status" in body["detail"]  # type: ignore[operator]  # the parameters it does take
    assert body["errors"] == {"stauts": ["Unknown parameter."]}


def test_every_unknown_parameter_is_named(park: Park) -> None:
    response = park.as_user("admin", "GET", ORGANISATIONS + "?pgae=2&sizee=3&page_size=5")
    body = assert_problem(response, 400, "unknown-parameter")
    assert body["parameters"] == ["pgae", "sizee"]


def test_known_parameters_with_bad_values_stay_422(park: Park) -> None:
    response = park.as_user("desk", "GET", RESERVATIONS + "?page_size=900")
    assert_problem(response, 422, "validation-failed")


def test_known_parameters_still_filter(park: Park) -> None:
    response = park.as_user(
        "desk", "GET", RESERVATIONS + "?scope=all&status=confirmed&page_size=5&from=2020-01-01T00:00:00Z"
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/booking/health"),
    ],
)
def test_an_endpoint_without_query_parameters_refuses_a_query_string(park: Park, method: str, path: str) -> None:
    response = park.as_user("admin", method, path + "?verbose=1")
    body = assert_problem(response, 400, "unknown-parameter")
    assert body["parameters"] == ["verbose"]
    assert "takes no query parameters" in body["detail"]  # type: ignore[operator]


# Tokens ---------------------------------------------------------------------------------------------


def a_token_signed_elsewhere() -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "user:mallory", "type": "access"}, key, algorithm="RS256", headers={"kid": "elsewhere"})


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Bearer t7e3.abc.def", "The bearer token is malformed."),  # header segment decodes to 0xb7 bytes
        ("Bearer not-a-token", "The bearer token is malformed."),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.e30", "The bearer token is malformed."),
        ("Bearer two parts", "The bearer token is malformed."),
        ("Basic YWRtaW46cGFya2h1Yi1kZW1v", "The Authorization header must be “Bearer” followed by an access token."),
        (None, "A bearer token is required: send Authorization: Bearer <access token>."),
    ],
    ids=["not-utf8", "no-segments", "two-segments", "two-words", "basic", "none"],
)
def test_a_refused_token_says_why_without_decoder_internals(park: Park, authorization: str | None, detail: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = park.client.get("/api/v1/booking/reservations", headers=headers)
    body = assert_problem(response, 401, "unauthorized")
    assert body["detail"] == detail
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="parkhub"'


def test_a_token_from_another_signer_is_named_as_such(park: Park) -> None:
    response = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {a_token_signed_elsewhere()}"})
    body = assert_problem(response, 401, "unauthorized")
    assert body["detail"] == "The token was not signed by a key of this platform."
