from raks.cli.argv import normalize


def test_global_flags_after_the_subcommand_are_hoisted():
    assert normalize(["config", "show", "--output", "json", "-y", "--config=x.yaml", "-v"]) == [
        "--output", "json", "-y", "--config=x.yaml", "-v", "config", "show",
    ]  # fmt: skip


def test_regions_take_several_values_and_commas():
    assert normalize(["up", "--regions", "uksouth", "swedencentral", "--yes"]) == [
        "--yes", "up", "--regions", "uksouth", "--regions", "swedencentral",
    ]  # fmt: skip
    assert normalize(["up", "--regions=a,b"]) == ["up", "--regions", "a", "--regions", "b"]


def test_nothing_after_double_dash_is_touched():
    assert normalize(["x", "--", "--yes"]) == ["x", "--", "--yes"]
