"""What a newcomer meets in the first hour: scripts that run from any folder, a smoke run
that never touches a shipped model, evaluations that know which weights they scored, and
the small things on screen (progress bars, percentages, help texts, ignored exports)."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from digits import DEFAULT_MODEL, MODELS, RUNS
from digits.cli import evaluate, percent, predict, train
from digits.make.fonts import missing_packages
from digits.report import is_stale, results_table
from digits.provenance import read_record

IMAGE = ROOT / "tests" / "digit_images" / "3-photos-005.jpg"


# -------------------------------------------------------------- from any folder


def test_the_models_and_data_are_found_beside_the_code_not_in_the_current_folder():
    assert DEFAULT_MODEL == ROOT / "models" / "accurate.keras" and MODELS.is_dir()


@pytest.mark.slow
def test_predict_reads_a_picture_when_run_from_another_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), str(IMAGE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{IMAGE}: 3 (")


def test_a_missing_line_reader_names_the_flag_that_picks_it(cli, tmp_path):
    status, _, err = cli(
        predict.main, str(IMAGE), "--model", str(DEFAULT_MODEL), "--reader", str(tmp_path / "r.keras")
    )
    assert status == 2 and err.count("\n") == 1
    assert "--reader PATH" in err and "python train.py --model reader" in err


def test_a_missing_detector_names_the_flag_that_picks_it(cli, tmp_path):
    status, _, err = cli(predict.main, str(IMAGE), "--detector", str(tmp_path / "d.keras"))
    assert status == 2 and "--detector PATH" in err and "no detector record" not in err


# ------------------------------------------------------- smoke runs go elsewhere


@pytest.mark.parametrize(
    "flags, output",
    [
        ([], MODELS / "mlp.keras"),
        (["--model", "cnn"], MODELS / "cnn.keras"),
        (["--epochs", "16"], MODELS / "mlp.keras"),  # the recipe's own number is no change
        (["--limit", "2000", "--epochs", "1"], RUNS / "mlp-epochs1-limit2000.keras"),
        (["--model", "cnn", "--seed", "3"], RUNS / "cnn-seed3.keras"),
        (["--learning-rate", "0.001", "--mixed-precision"], RUNS / "mlp-lr0.001-bf16.keras"),
        (["--validation-size", "1000"], RUNS / "mlp-val1000.keras"),
    ],
)
def test_only_the_recipes_own_run_writes_to_models(flags, output):
    assert train.default_output(train.parse_args(flags)) == output


@pytest.mark.slow
def test_a_smoke_run_leaves_the_shipped_models_as_they_were(tmp_path):
    before = {p.name: p.read_bytes() for p in MODELS.iterdir() if p.is_file()}
    done = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), "--limit", "600", "--epochs", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    written = RUNS / "mlp-epochs1-limit600.keras"
    try:
        assert done.returncode == 0, done.stderr[-2000:]
        assert str(written) in done.stdout and written.is_file()
        assert {p.name: p.read_bytes() for p in MODELS.iterdir() if p.is_file()} == before
    finally:
        written.unlink(missing_ok=True)
        written.with_suffix(".json").unlink(missing_ok=True)


# ---------------------------------------------- evaluations know what they scored


@pytest.mark.slow
def test_an_evaluation_is_stale_once_the_model_beside_it_is_trained_again(cli, tmp_path):
    model = tmp_path / "mlp.keras"
    assert cli(train.main, "--limit", "500", "--epochs", "1", "--output", str(model))[0] == 0
    status, out, _ = cli(evaluate.main, "--model", str(model), "--limit", "300")
    assert status == 0 and "(batch 300, after warm-up)" in out
    report = json.loads((tmp_path / "mlp.evaluation.json").read_text())
    assert report["weights_sha256"] == read_record(model)["weights_sha256"]
    assert not is_stale(report, [read_record(model)])
    assert "stale" not in results_table(tmp_path)

    assert cli(train.main, "--limit", "500", "--epochs", "1", "--seed", "1", "--output", str(model))[0] == 0
    assert is_stale(report, [read_record(model)])
    assert "| `mlp` |" in results_table(tmp_path)
    assert "stale: the model changed since; `python evaluate.py --model models/mlp.keras`" in results_table(tmp_path)


def test_an_evaluation_that_does_not_say_what_it_scored_is_stale():
    assert is_stale({"model": "a.keras"}, [{"weights_sha256": "ab"}])
    assert is_stale({"weights_sha256": None}, [{}])
    assert not is_stale({"weights_sha256": ["ab", "cd"]}, [{"weights_sha256": "ab"}, {"weights_sha256": "cd"}])


def test_every_shipped_evaluation_scored_the_weights_of_the_model_beside_it_but_the_mlps():
    """The mlp is what README's first command retrains, on another CPU to other weights."""
    for path in MODELS.glob("*.evaluation.json"):
        report = json.loads(path.read_text())
        members = report["model"] if isinstance(report["model"], list) else [report["model"]]
        if members != ["mlp.keras"]:
            assert not is_stale(report, [read_record(MODELS / m) for m in members]), path.name


# ----------------------------------------------------------- what is on screen


def test_the_progress_bar_never_counts_past_the_epochs_last_step():
    from digits.make.progress import ProgressBar

    bar = ProgressBar()
    bar.set_params({"verbose": 1, "epochs": 1, "steps": 6})
    bar.on_train_begin()
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(31, {"loss": 1.0})  # 32 steps a call: Keras reports step 32
    assert bar.seen == 6


@pytest.mark.parametrize("p, shown", [(0.99996, "99.9%"), (1.0, "100.0%"), (0.5, "50.0%"), (0.00049, "0.0%")])
def test_a_confidence_is_rounded_down_as_the_page_rounds_it(p, shown):
    assert percent(p) == shown
    page = (ROOT / "digits" / "read" / "static" / "draw.html").read_text()
    assert "Math.floor(1000 * p) / 10" in page  # the page's own rule, the same


def test_the_benchmarks_help_states_each_default_once():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "(default: None)" not in done.stdout
    assert "(default: ...) (default:" not in done.stdout.replace("\n", " ")


@pytest.mark.parametrize(
    "path, ignored",
    [
        ("models/cnn.tflite", True),
        ("models/accurate.savedmodel/saved_model.pb", True),
        ("runs/mlp-seed1.keras", True),
        ("models/accurate.tflite", False),  # ships, for docs/exports.md's LiteRT example
        ("models/accurate.onnx", False),
    ],
)
def test_exports_and_runs_are_ignored_by_git_but_the_shipped_exports(path, ignored):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert (subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0) == ignored


def test_without_dpkg_every_font_package_counts_as_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert len(missing_packages()) > 100


def test_the_code_has_a_licence_and_the_data_its_own():
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY-SA 3.0" in licence
    assert "CC BY-SA 3.0" in (ROOT / "data" / "README.md").read_text()
