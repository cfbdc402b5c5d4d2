import pytest


@pytest.fixture(autouse=True)
def _clean_raks_env(monkeypatch, tmp_path):
    """Tests start in an empty folder with no RAKS_* variables from the developer's shell."""
    import os

    for var in list(os.environ):
        if var.startswith("RAKS_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def served(tmp_path):
    """A sandbox served from the test's folder (see helpers/served.py)."""
    from helpers.served import Served

    s = Served(tmp_path / "sandbox")
    try:
        yield s
    finally:
        s.stop()
