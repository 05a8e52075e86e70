"""Reproducible runs, interrupted training, and what happens to files when things go wrong."""

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT

from digits.cli import train
from digits import DigitsError
from digits.make import training
from digits.backend import keras
from digits.make.networks import NETWORKS, Recipe
from digits.read.models import load_model
from digits.make.progress import one_run_per_output, progress_folder, read_history, resumable_run
from digits.make.training import train as train_model

SHORT_RECIPE = Recipe(epochs=2, batch_size=128, learning_rate=1e-3)
SHORT = {"limit": 3000, "validation_size": 500}


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


# --------------------------------------------------------------------- reproducibility


@pytest.mark.slow
def test_same_seed_gives_bit_identical_weights_and_metrics(mnist):
    first, first_record = train_model(NETWORKS["cnn"], mnist, SHORT_RECIPE, 7, verbose=0, **SHORT)
    second, second_record = train_model(NETWORKS["cnn"], mnist, SHORT_RECIPE, 7, verbose=0, **SHORT)
    for a, b in zip(weights_of(first), weights_of(second), strict=True):
        assert a.tobytes() == b.tobytes()
    first_record["history"].pop("epoch_seconds"), second_record["history"].pop("epoch_seconds")
    assert first_record["history"] == second_record["history"]


@pytest.mark.slow
def test_mixed_precision_runs_are_reproducible_and_give_a_float32_model(mnist):
    recipe = replace(SHORT_RECIPE, augment=True, mixed_precision=True)
    runs = [train_model(NETWORKS["mlp"], mnist, recipe, 3, verbose=0, **SHORT) for _ in range(2)]
    (first, record), (second, _) = runs
    for a, b in zip(weights_of(first), weights_of(second), strict=True):
        assert a.tobytes() == b.tobytes()
    assert record["config"]["precision"] == "mixed_bfloat16"
    assert record["best_val_accuracy"] > 0.85
    # the model returned computes in float32, as if trained so, and the policy is restored
    assert {layer.dtype_policy.name for layer in first.layers} == {"float32"}
    assert first.predict(mnist["x_test"][:5], verbose=0).dtype == np.float32
    assert keras.mixed_precision.dtype_policy().name == "float32"
    # asked for, whatever the CPU; not asked for, float32 on every CPU
    _, record = train_model(NETWORKS["mlp"], mnist, SHORT_RECIPE, 3, verbose=0, **SHORT)
    assert record["config"]["precision"] == "float32"


@pytest.mark.slow
def test_steps_per_call_changes_the_speed_not_the_weights(mnist, monkeypatch):
    # 20 steps an epoch: one at a time, then 7 a call (two calls and a shorter third)
    runs = []
    for steps in (1, 7):
        monkeypatch.setattr(training, "STEPS_PER_CALL", steps)
        runs.append(train_model(NETWORKS["mlp"], mnist, replace(SHORT_RECIPE, augment=True), 5, verbose=0, **SHORT))
    (first, first_record), (second, second_record) = runs
    for a, b in zip(weights_of(first), weights_of(second), strict=True):
        assert a.tobytes() == b.tobytes()
    assert first_record["history"]["loss"] == second_record["history"]["loss"]


@pytest.mark.slow
def test_different_seeds_give_different_runs(mnist):
    a, a_record = train_model(NETWORKS["mlp"], mnist, SHORT_RECIPE, 1, verbose=0, **SHORT)
    b, b_record = train_model(NETWORKS["mlp"], mnist, SHORT_RECIPE, 2, verbose=0, **SHORT)
    assert not np.array_equal(weights_of(a)[0], weights_of(b)[0])
    assert a_record["history"]["loss"] != b_record["history"]["loss"]


@pytest.mark.slow
def test_record_holds_what_is_needed_to_reproduce_the_model(mnist, tmp_path, cli):
    output = tmp_path / "m.keras"
    status, _, _ = cli(
        train.main,
        "--limit",
        "2000",
        "--validation-size",
        "500",
        "--epochs",
        "1",
        "--seed",
        "3",
        "--output",
        str(output),
    )
    assert status == 0
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["command"].endswith(f"--seed 3 --output {output}")
    assert record["seed"] == 3 and record["config"]["seed"] == 3
    assert (
        record["data_sha256"] == "869043a08a4d18821fa17546401bfbe66053b5e347a0a99c9ae9e6cbd1f08db0"
    )
    assert {"python", "tensorflow", "keras", "numpy"} <= set(record["versions"])


# --------------------------------------------------------------------- interruption

# The cnn, whose epochs last seconds here: the bfloat16 mlp can finish all eight epochs
# before a signal sent after the second one arrives.
TRAIN = [
    sys.executable,
    "train.py",
    "--model",
    "cnn",
    "--limit",
    "12000",
    "--validation-size",
    "2000",
    "--epochs",
    "8",
]


def finished_epochs(folder):
    """How many epochs the run in `folder` has saved, its own history and Keras's backup both."""
    try:
        backup = json.loads((folder / "keras" / "training_metadata.json").read_text())["epoch"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0
    return min(backup, len(read_history(folder).get("loss", [])))


def wait_for_epochs(folder, count, process, timeout=120):
    """Block until the run has saved `count` finished epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "training ended before it could be interrupted"
        if finished_epochs(folder) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("no progress saved in time")


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.slow
def test_interrupted_training_resumes_from_the_last_finished_epoch(tmp_path, sig, status):
    output = tmp_path / "models" / "m.keras"
    command = [*TRAIN, "--output", str(output)]
    # Ctrl-C's default action in the child, as in a terminal: a shell that starts the tests
    # in the background (`... &`) ignores SIGINT, and Python then never raises
    # KeyboardInterrupt, so the run would ignore the signal and finish.
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_for_epochs(progress_folder(output), 2, child)
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == status
    assert "run the same command again to resume" in err
    assert not output.exists(), "an interrupted run must not write a model"
    done = finished_epochs(progress_folder(output))
    assert 2 <= done < 8

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming an interrupted run at epoch {done + 1}" in resumed.stdout
    assert resumed.stdout.count("Epoch ") == 8 - done, "only the remaining epochs run"
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["resumed_at_epoch"] == done + 1
    assert len(record["history"]["val_accuracy"]) == 8
    assert record["best_val_accuracy"] > 0.93
    # the best epoch is chosen over the whole run, the epochs before the interruption too
    history = record["history"]["val_accuracy"]
    assert record["best_val_accuracy"] == max(history)
    assert record["best_epoch"] == history.index(max(history)) + 1
    assert load_model(output).output_shape == (None, 10)
    assert not progress_folder(output).exists(), "progress is removed once the model is saved"


@pytest.mark.slow
def test_one_run_per_output_and_kill_9_leaves_the_model_and_no_stuck_lock(tmp_path, cli):
    output = tmp_path / "m.keras"
    keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")]).save(
        output
    )
    before = output.read_bytes()
    child = subprocess.Popen(
        [*TRAIN, "--output", str(output)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_epochs(progress_folder(output), 1, child)
    # a second run on the same output is refused while the first one runs
    status, _, err = cli(train.main, *TRAIN[2:], "--output", str(output))
    assert status == 2 and err.count("\n") == 1
    assert f"another train.py (pid {child.pid}) is writing {output}" in err
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.keras.lock", ".m.resume", "m.keras"]
    with one_run_per_output(output):  # the killed run's lock died with it
        pass
    assert not (tmp_path / ".m.keras.lock").exists()


def test_resume_refuses_a_run_with_other_settings(tmp_path, mnist):
    folder = tmp_path / ".m.resume"
    config = {"model": "mlp", "epochs": 8}
    (folder / "keras").mkdir(parents=True)
    (folder / "keras" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "history.csv").write_text("epoch,loss,val_accuracy\n0,0.5,0.9\n1,0.4,0.95\n")
    with pytest.raises(DigitsError, match=r"other settings \(epochs 8 -> 9\).*--fresh"):
        resumable_run(folder, {"model": "mlp", "epochs": 9}, None)
    assert resumable_run(folder, config, True).best() == (2, 0.95)
    resumable_run(folder, {"model": "mlp", "epochs": 9}, False)
    assert json.loads((folder / "config.json").read_text())["epochs"] == 9
    assert not (folder / "history.csv").exists(), "--fresh discards the old progress"
    with pytest.raises(DigitsError, match="no interrupted run to resume"):
        resumable_run(folder, config, True)


def test_an_epoch_that_runs_again_after_an_interruption_counts_once(tmp_path):
    # Killed after epoch 2's history row and best weights were written, before Keras's
    # backup of it: the run resumes at epoch 2 and runs it again.
    folder = tmp_path / ".m.resume"
    progress = resumable_run(folder, {"model": "mlp"}, None)
    (folder / "history.csv").write_text("epoch,val_accuracy\n0,0.9\n1,0.97\n")
    for epoch in (1, 2):
        (folder / f"best-{epoch:03d}.weights.h5").write_bytes(b"")
    progress.resume_at(1)
    assert sorted(p.name for p in folder.glob("best-*")) == ["best-001.weights.h5"]
    assert progress.checkpoint.best == 0.9, "only an epoch better than epoch 1 is kept"
    with open(folder / "history.csv", "a") as history:
        history.write("1,0.95\n")
    assert progress.history() == {"val_accuracy": [0.9, 0.95]}
    assert progress.best() == (2, 0.95)


def test_unreadable_progress_is_a_clear_error(tmp_path):
    folder = tmp_path / ".m.resume"
    (folder / "keras").mkdir(parents=True)
    (folder / "keras" / "training_metadata.json").write_text("{}")
    (folder / "config.json").write_text("{ truncated")
    with pytest.raises(DigitsError, match="unreadable.*--fresh"):
        resumable_run(folder, {}, None)


# ------------------------------------------------------------------------ safe loading


def test_model_with_embedded_code_is_refused(tmp_path):
    path = tmp_path / "lambda.keras"
    keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Lambda(lambda x: x * 2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    ).save(path)
    with pytest.raises(DigitsError, match="carries Python code.*safe mode"):
        load_model(path)


def test_model_taking_other_images_is_refused(tmp_path):
    path = tmp_path / "rgb.keras"
    keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    ).save(path)
    with pytest.raises(
        DigitsError, match=r"takes \(32, 32, 3\).*must take the raw \(28, 28\) image"
    ):
        load_model(path)


def test_a_later_run_removes_the_temporary_files_of_a_killed_save(tmp_path):
    output = tmp_path / "m.keras"
    stale = [tmp_path / ".m.x1y2z3.tmp.keras", tmp_path / ".m.a9b8c7.tmp.json"]
    for path in stale:
        path.write_bytes(b"half a model")
    other = tmp_path / ".other.q1w2e3.tmp.keras"  # another output's: not ours to remove
    other.write_bytes(b"")
    with one_run_per_output(output):
        assert not any(path.exists() for path in stale) and other.exists()
