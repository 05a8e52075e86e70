"""README.md opens with the two commands a newcomer types; CI runs the second one exactly."""

import re

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


def test_ci_runs_the_two_readme_commands_in_order_the_first_on_another_cpus_numerics():
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    train_command, test_command = readme_commands()
    assert ci_lines[-1] == test_command
    first = ci_lines.index(train_command)
    assert ci_lines[first - 1].startswith("export ONEDNN_MAX_CPU_ISA=")
    assert ci_lines[first + 1] == "unset ONEDNN_MAX_CPU_ISA"


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
    """Every number comes from the files. README's first command (python train.py) retrains
    the mlp, on another CPU to other weights: then its evaluation is stale and the report
    says so, and the rows compared are those whose evaluation is about the model beside it."""
    from digits.report import HEADER, results_table

    readme = (ROOT / "README.md").read_text()
    start = readme.index(HEADER)
    shown = readme[start : readme.index("\n\n", start)]
    made = results_table(ROOT / "models")
    current = [row for row in reproducible_columns(made) if "stale" not in " ".join(row)]
    assert len(current) >= 6  # the header, its rule and at least every model but the mlp
    assert current == [row for row in reproducible_columns(shown) if row[0] in {r[0] for r in current}]
