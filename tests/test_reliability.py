"""Reproducible runs, interrupted training, and what happens to files when things go wrong."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

import train
from digits import DigitsError
from digits.backend import keras
from digits.evaluation import load_model
from digits.training import open_state, state_folder
from digits.training import train as train_model

SHORT = {
    "epochs": 2,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "limit": 3000,
    "validation_size": 500,
}


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


# --------------------------------------------------------------------- reproducibility


def test_same_seed_gives_bit_identical_weights_and_metrics(mnist):
    first, first_record = train_model("cnn", mnist, seed=7, verbose=0, **SHORT)
    second, second_record = train_model("cnn", mnist, seed=7, verbose=0, **SHORT)
    for a, b in zip(weights_of(first), weights_of(second), strict=True):
        assert a.tobytes() == b.tobytes()
    first_record["history"].pop("epoch_seconds"), second_record["history"].pop("epoch_seconds")
    assert first_record["history"] == second_record["history"]


def test_different_seeds_give_different_runs(mnist):
    a, a_record = train_model("mlp", mnist, seed=1, verbose=0, **SHORT)
    b, b_record = train_model("mlp", mnist, seed=2, verbose=0, **SHORT)
    assert not np.array_equal(weights_of(a)[0], weights_of(b)[0])
    assert a_record["history"]["loss"] != b_record["history"]["loss"]


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

TRAIN = [
    sys.executable,
    "train.py",
    "--limit",
    "12000",
    "--validation-size",
    "2000",
    "--epochs",
    "8",
]


def wait_for_epochs(state_file, count, process, timeout=120):
    """Block until the run has saved `count` finished epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "training ended before it could be interrupted"
        try:
            if len(json.loads(state_file.read_text())["history"]["loss"]) >= count:
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    raise AssertionError("no progress saved in time")


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_training_resumes_from_the_last_finished_epoch(tmp_path, sig, status):
    output = tmp_path / "models" / "m.keras"
    command = [*TRAIN, "--output", str(output)]
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_epochs(state_folder(output) / "state.json", 2, child)
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == status
    assert "run the same command again to resume" in err
    assert not output.exists(), "an interrupted run must not write a model"
    done = len(json.loads((state_folder(output) / "state.json").read_text())["history"]["loss"])
    assert 2 <= done < 8

    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming an interrupted run at epoch {done + 1}" in resumed.stdout
    assert resumed.stdout.count("Epoch ") == 8 - done, "only the remaining epochs run"
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["resumed_at_epoch"] == done + 1
    assert len(record["history"]["val_accuracy"]) == 8
    assert record["best_val_accuracy"] > 0.93
    assert load_model(output).output_shape == (None, 10)
    assert not state_folder(output).exists(), "progress is removed once the model is saved"


def test_kill_9_mid_training_leaves_the_existing_model_untouched(tmp_path):
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
    wait_for_epochs(state_folder(output) / "state.json", 1, child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.resume", "m.keras"]


def test_resume_refuses_a_run_with_other_settings(tmp_path, mnist):
    folder = tmp_path / ".m.resume"
    config = {"model": "mlp", "epochs": 8}
    (folder / "keras").mkdir(parents=True)
    (folder / "keras" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    (folder / "state.json").write_text(
        json.dumps(
            {
                "config": config,
                "history": {},
                "best_epoch": None,
                "best_val_accuracy": -1,
                "seconds": 0,
            }
        )
    )
    with pytest.raises(DigitsError, match=r"other settings \(epochs 8 -> 9\).*--fresh"):
        open_state(folder, {"model": "mlp", "epochs": 9}, resume=None)
    assert open_state(folder, config, resume=True).config == config
    open_state(folder, {"model": "mlp", "epochs": 9}, resume=False)
    assert not folder.exists(), "--fresh discards the old progress"
    with pytest.raises(DigitsError, match="no interrupted run to resume"):
        open_state(folder, config, resume=True)


def test_unreadable_progress_is_a_clear_error(tmp_path):
    folder = tmp_path / ".m.resume"
    (folder / "keras").mkdir(parents=True)
    (folder / "keras" / "training_metadata.json").write_text("{}")
    (folder / "state.json").write_text("{ truncated")
    with pytest.raises(DigitsError, match="unreadable.*--fresh"):
        open_state(folder, {}, resume=None)


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
        DigitsError, match=r"takes \(32, 32, 3\).*must take \(784,\) or \(28, 28, 1\)"
    ):
        load_model(path)
