"""Fixtures for the gatehouse conformance suite.

`support` is imported first: it sets HF_ENDPOINT/HF_HOME/... before huggingface_hub is imported.
One `gatehouse serve` runs for the whole session on a seeded data dir; tests that need their own
server (durability) use `gatehouse_factory`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import support  # noqa: F401  (must come before any huggingface_hub import)
from support import PORT, SESSION_TMP, GatehouseServer, build_seed, write_seed

_state: dict[str, Any] = {"failed": set(), "servers": []}


@pytest.fixture(scope="session", autouse=True)
def server() -> Iterator[GatehouseServer]:
    seed = write_seed(SESSION_TMP / "seed.yaml", build_seed())
    srv = GatehouseServer(SESSION_TMP / "data", seed, port=PORT, log=SESSION_TMP / "gatehouse.log")
    _state["servers"].append(srv)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.exit(f"cannot start gatehouse: {e}", returncode=1)
    yield srv
    srv.stop()


@pytest.fixture
def gatehouse_factory(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., GatehouseServer]]:
    """Make extra servers (own port); `make(seed_dict_or_None, data_dir=...)`. All stopped at teardown."""
    made: list[GatehouseServer] = []

    def make(seed: dict[str, Any] | None, data_dir: Path | None = None, name: str = "seed.yaml") -> GatehouseServer:
        seed_path = write_seed(tmp_path / name, seed) if seed is not None else None
        srv = GatehouseServer(data_dir or tmp_path / "data", seed_path, log=tmp_path / "gatehouse.log")
        srv.test_id = request.node.nodeid
        made.append(srv)
        _state["servers"].append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        _state["failed"].add(item.nodeid)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not (_state["failed"] or exitstatus not in (0, 5)):
        return
    seen: set[Path] = set()
    for srv in _state["servers"]:
        if srv.log_path in seen or (srv.test_id is not None and srv.test_id not in _state["failed"]):
            continue
        seen.add(srv.log_path)
        terminalreporter.section(f"gatehouse log ({srv.log_path})")
        terminalreporter.write_line(srv.log_tail(60 if srv.test_id is None else 120))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0 and not _state["failed"]:
        shutil.rmtree(SESSION_TMP, ignore_errors=True)
