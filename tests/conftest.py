import os

import pytest

# Knobs a developer sets to reproduce a run (the tests that read them print how), taken here at
# collection, before the fixture below erases every RAKS_* variable (raks would reject them as
# unknown settings).
TEST_KNOBS = {var: value for var, value in os.environ.items() if var in ("RAKS_CRASH_SEED",)}


@pytest.fixture(scope="session", autouse=True)
def _stop_background_sandboxes(tmp_path_factory):
    """`--sandbox` commands start a background sandbox per state folder (each test's own); none
    may outlive the test session."""
    yield
    from raks.sandbox import daemon

    for pid_file in tmp_path_factory.getbasetemp().rglob(daemon.PID_FILE):
        daemon.stop(pid_file.parent)


@pytest.fixture(autouse=True)
def _clean_raks_env(monkeypatch, tmp_path):
    """Tests start in an empty folder with no RAKS_* variables from the developer's shell."""
    for var in list(os.environ):
        if var.startswith("RAKS_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def crash_seed() -> int:
    """The crash-and-resume schedule's seed: RAKS_CRASH_SEED from the shell that started pytest."""
    return int(TEST_KNOBS.get("RAKS_CRASH_SEED", "20261126"))


@pytest.fixture
def served(tmp_path):
    """A sandbox served from the test's folder (see helpers/served.py)."""
    from helpers.served import Served

    s = Served(tmp_path / "sandbox")
    try:
        yield s
    finally:
        s.stop()
