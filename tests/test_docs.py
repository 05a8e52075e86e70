"""README.md and docs/: every example output is what its command prints today, every
command names a script, module and flags that exist, every example in Python runs, and
every link points at a file that is there."""

import importlib
import importlib.util
import re
import shlex
import subprocess
import sys

import pytest
from conftest import ROOT

from digits.report import calibration_table

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCRIPTS = ("train", "evaluate", "visualize", "predict", "serve", "export")


def blocks(kind):
    """(page name, text) of every fenced block of `kind` (sh, console, python) in the pages."""
    return [
        (page.name, text)
        for page in PAGES
        for text in re.findall(rf"```{kind}\n(.*?)```", page.read_text(), re.DOTALL)
    ]


def console_examples():
    """(page, command, expected output) for each `$ command` in a console block."""
    examples = []
    for page, text in blocks("console"):
        for part in re.split(r"^\$ ", text, flags=re.MULTILINE)[1:]:
            command, _, output = part.partition("\n")
            examples.append(pytest.param(command, output, id=f"{page}: {command[:60]}"))
    return examples


def shell_commands():
    """Every `python ...` command in the sh blocks and in `code spans`, flags included;
    synopses with placeholders (`python train.py --model NAME`, `[--model PATH]`) left out."""
    lines = [line.split("#")[0].strip() for _, block in blocks("sh") for line in block.splitlines()]
    lines += [
        " ".join(span.split())
        for page in PAGES
        for span in re.findall(r"`(python [^`]+)`", page.read_text())
    ]
    found = set()
    for line in lines:
        for command in line.split("&&"):
            command = command.strip()
            placeholder = re.search(r"\[|\.\.\.|\||(^| )[A-Z][A-Z0-9_.]*( |$)", command)
            if command.startswith("python ") and not placeholder:
                found.add(command)
    return sorted(found)


@pytest.mark.slow
@pytest.mark.parametrize("command, expected", console_examples())
def test_each_example_output_is_what_the_command_prints(command, expected):
    argv = shlex.split(command)
    assert argv[0] == "python"
    done = subprocess.run(
        [sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == expected


@pytest.mark.parametrize("command", shell_commands())
def test_each_command_names_a_script_or_module_and_flags_that_exist(command):
    """A script's flags are parsed by its own parser (nothing runs); a module must exist."""
    argv = shlex.split(command.replace("$(grep -v '^#' data/font-packages.txt)", ""))[1:]
    if argv[0] == "-m":
        module = argv[1]
        assert importlib.util.find_spec(module) is not None, module
        return
    script = argv[0]
    assert (ROOT / script).is_file(), script
    name = script.removesuffix(".py")
    if name in SCRIPTS:
        importlib.import_module(f"digits.cli.{name}").parse_args(argv[1:])


def test_the_pages_show_some_commands_and_examples():
    """The checks above are not vacuous: the pages hold commands and examples to check."""
    assert len(shell_commands()) >= 20 and len(console_examples()) >= 2 and blocks("python")


@pytest.mark.slow
@pytest.mark.parametrize("page, code", blocks("python"), ids=lambda v: str(v)[:40])
def test_each_python_example_runs_and_prints_what_its_comments_say(page, code):
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    expected = [
        comment.strip().strip("'")
        for line in code.splitlines()
        if line.startswith("print(")
        for comment in [line.split("#", 1)[1]]
    ]
    assert done.stdout.splitlines() == [e for e in expected if e]


def test_every_link_to_a_file_points_at_one():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)|src=\"([^\":]+)\"", page.read_text()):
            path = next(t for t in target if t)
            assert (page.parent / path).exists(), f"{page.name}: {path}"


def test_readme_is_a_front_door_of_at_most_200_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_the_calibration_table_is_the_one_the_report_command_prints():
    """Row by row: the report leaves out a stale evaluation (the mlp's, once README's first
    command has trained it again), which the page still shows."""
    made = calibration_table(ROOT / "models").splitlines()
    shown = (ROOT / "docs" / "models.md").read_text().splitlines()
    assert len(made) >= 7 and all(row in shown for row in made)


@pytest.mark.parametrize("part, model", [("cnn", "cnn"), ("mlp", "mlp"), ("accurate", "accurate"), ("ensemble", "accurate-k7")])
def test_each_benchmark_table_is_the_one_its_results_file_has(part, model):
    results = (ROOT / "benchmarks" / f"RESULTS-{part}.md").read_text()
    table = results[results.index("| model |") :].split("\n\n")[0]
    assert f"| `{model}` |" in table and table in (ROOT / "docs" / "reproducing.md").read_text()
