"""README.md opens with the two commands a newcomer types; CI runs the second one exactly."""

import re

import pytest
from conftest import ROOT


def readme_commands():
    first_block = re.search(
        r"```(?:sh|bash|console)?\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL
    )
    return [line for line in first_block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_a_train_command_and_a_test_command():
    train_command, test_command = readme_commands()
    assert "requirements.txt" in train_command and train_command.endswith("python train.py")
    assert "requirements-dev.txt" in test_command and test_command.endswith("python -m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci_lines[-1] == readme_commands()[1]


def reproducible_columns(table):
    """The table without the columns a rerun of train.py rewrites on another machine or
    at another time (training time, best validation accuracy, inference speed)."""
    rows = [row.split(" | ") for row in table.strip().splitlines()]
    header = rows[0]
    varying = {
        i
        for i, name in enumerate(header)
        if name in ("training time", "best validation accuracy", "inference |")
    }
    return [[cell for i, cell in enumerate(row) if i not in varying] for row in rows]


def test_readme_results_table_is_the_one_the_report_command_prints():
    """Every number comes from the files; the README's first command (python train.py)
    rewrites models/mlp.json, so the columns it may change are compared apart."""
    from digits.report import HEADER, results_table

    readme = (ROOT / "README.md").read_text()
    start = readme.index(HEADER)
    shown = readme[start : readme.index("\n\n", start)]
    made = results_table(ROOT / "models")
    assert reproducible_columns(shown) == reproducible_columns(made)


def test_readme_benchmark_table_is_the_one_in_results():
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    table = results[results.index("| model |") :].split("\n\n")[0]
    assert table in (ROOT / "README.md").read_text()


def test_readme_calibration_table_is_the_one_the_report_command_prints():
    from digits.report import calibration_table

    table = calibration_table(ROOT / "models")
    assert "`accurate`" in table and table in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "part, model",
    [("cnn", "cnn"), ("mlp", "mlp"), ("accurate", "accurate"), ("ensemble", "accurate-k7")],
)
def test_readme_shows_each_round_two_benchmark_as_its_results_file_has_it(part, model):
    results = (ROOT / "benchmarks" / f"RESULTS-{part}.md").read_text()
    table = results[results.index("| model |") :].split("\n\n")[0]
    assert f"| `{model}` |" in table and table in (ROOT / "README.md").read_text()
    assert f"RESULTS-{part}.md" in (ROOT / "benchmarks" / "RESULTS.md").read_text()
