"""The CLI shell: init, config show, global flags, exit codes, start-up imports."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from raks.cli.main import main
from raks.config import RaksConfig, load_config, resolved_dict


def test_init_writes_the_defaults_and_round_trips_through_config_show(tmp_path, capsys):
    assert main(["init"]) == 0
    written = (tmp_path / "raks.yaml").read_text()
    assert written.startswith("# raks.yaml")  # commented
    cfg = load_config(tmp_path / "raks.yaml", environ={})
    assert cfg == RaksConfig()  # every value in the file is the default
    capsys.readouterr()
    assert main(["config", "show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown == resolved_dict(cfg)
    # What `config show` prints is itself a valid raks.yaml that resolves to the same thing.
    (tmp_path / "again.yaml").write_text(yaml.safe_dump(shown))
    assert resolved_dict(load_config(tmp_path / "again.yaml", environ={})) == shown


def test_init_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "raks.yaml").write_text("deployment: mine\n")
    assert main(["init"]) == 2
    assert "already exists (pass --force to overwrite it)" in capsys.readouterr().err
    assert (tmp_path / "raks.yaml").read_text() == "deployment: mine\n"


def test_global_flags_before_or_after_the_subcommand(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("deployment: other\n")
    for argv in (
        ["--config", "c.yaml", "--output", "json", "config", "show"],
        ["config", "show", "--config", "c.yaml", "-o", "json"],
    ):
        assert main(argv) == 0
        assert json.loads(capsys.readouterr().out)["deployment"] == "other"


def test_regions_flag_overrides_the_file(tmp_path, capsys):
    (tmp_path / "raks.yaml").write_text("regions: [westus2]\n")
    assert main(["config", "show", "--regions", "uksouth", "swedencentral", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["regions"] == ["uksouth", "swedencentral"] and out["primary_region"] == "uksouth"


def test_config_errors_exit_2_one_line_each(tmp_path, capsys):
    (tmp_path / "raks.yaml").write_text("regions: [uksouth, atlantis]\npools: []\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {tmp_path / 'raks.yaml'}: regions[1]: 'atlantis' is not an Azure region name "
        "(see `az account list-locations`)",
        f"error: {tmp_path / 'raks.yaml'}: pools: at least one pool must have mode: system",
    ]


def test_usage_errors_exit_2(capsys):
    assert main(["--output", "xml", "config", "show"]) == 2
    assert "--output: 'xml' is not allowed (use table or json)" in capsys.readouterr().err
    assert main(["config", "show", "--nope"]) == 2
    assert "No such option: --nope" in capsys.readouterr().err


def test_version(capsys):
    from raks import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"raks {__version__}"


def test_help_does_not_import_cloud_sdks():
    code = (
        "import sys; from raks.cli.main import main; rc = main(['--help']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'kubernetes', 'pydantic')); "
        "print(bad, rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[] 0"
