"""A new service needs no hand-edited port table: its default upstream follows from its place in
``SERVICES`` (the gateway at 8100, then 8101, 8102, … in order), for the route table, the nginx
configuration and ``parkhub api``'s default bind alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import nginx, routes
from shared import settings as settings_module
from shared.settings import SERVICES, Settings


def test_every_service_has_its_default_port_by_its_place_in_services(tmp_path: Path) -> None:
    table = routes.route_table(Settings.from_env({"PARKHUB_VAR_DIR": str(tmp_path)}))
    assert [(r.service, r.upstream) for r in table] == [
        (name, f"http://127.0.0.1:{8101 + i}") for i, name in enumerate(SERVICES)
    ]
    assert routes.default_port("gateway") == 8100
    assert routes.DEFAULT_PORTS == {"gateway": 8100, **{name: 8101 + i for i, name in enumerate(SERVICES)}}


def test_a_service_added_to_services_is_routed_and_rendered_without_a_port_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grown = (*SERVICES, "leasing")
    monkeypatch.setattr(settings_module, "SERVICES", grown)
    monkeypatch.setattr(settings_module, "DATABASES", ("gateway", *grown))
    monkeypatch.setattr(routes, "SERVICES", grown)
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(tmp_path)})

    table = routes.route_table(settings)
    assert (table[-1].service, table[-1].prefix, table[-1].upstream) == (
        "leasing",
        "/api/v1/leasing/",
        f"http://127.0.0.1:{8101 + len(SERVICES)}",
    )
    assert f"server 127.0.0.1:{8101 + len(SERVICES)};" in nginx.render(settings, "8080")
