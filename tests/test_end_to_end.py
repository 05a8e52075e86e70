"""End to end on real MNIST: train, evaluate and visualize as a user runs them, the honest
full run of the default model, and the shipped models scored as the README reports them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from conftest import ROOT

from digits.backend import keras
from digits.cli import evaluate, train, visualize
from digits.provenance import read_record
from digits.read.inference import ensemble_probabilities, predict
from digits.read.models import load_model
from digits.report import is_stale


def assert_png(path, min_size=200):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = matplotlib.image.imread(path).shape
    assert height >= min_size and width >= min_size

@pytest.mark.slow
def test_train_evaluate_visualize_on_a_small_real_subset(cli, tmp_path):
    model_path = tmp_path / "models" / "small.keras"
    status, out, _ = cli(
        train.main,
        "--limit",
        "3000",
        "--validation-size",
        "500",
        "--epochs",
        "2",
        "--output",
        str(model_path),
        "--h5",
    )
    assert status == 0 and "best validation accuracy" in out
    record = json.loads(model_path.with_suffix(".json").read_text())
    assert record["seed"] == 0 and record["config"]["training_images"] == 2500
    assert len(record["history"]["val_accuracy"]) == 2
    assert 0.7 < record["best_val_accuracy"] <= 1.0
    assert record["versions"]["keras"].startswith("3.")
    assert load_model(model_path.with_suffix(".h5")).output_shape == (None, 10)

    status, out, _ = cli(evaluate.main, "--model", str(model_path), "--limit", "1000")
    assert status == 0 and "test accuracy" in out
    report = json.loads((tmp_path / "models" / "small.evaluation.json").read_text())
    assert report["images"] == 1000 and 0.7 < report["accuracy"] <= 1.0
    assert np.sum(report["confusion_matrix"]) == 1000
    assert report["images_per_second"] > 0
    assert sum(d["support"] for d in report["per_digit"].values()) == 1000

    figures = tmp_path / "figures"
    status, out, _ = cli(
        visualize.main, "--model", str(model_path), "--limit", "1000", "--output-dir", str(figures)
    )
    assert status == 0
    names = sorted(p.name for p in figures.iterdir())
    assert names == [
        f"small-{kind}.png" for kind in ("confusion", "correct", "history", "misclassified")
    ]
    for path in figures.iterdir():
        assert_png(path)

def current_report(name):
    """models/<name>.evaluation.json if it scored the weights models/<name>.json describes;
    None if it is stale (README's first command retrains the mlp: on another CPU, to other
    weights, which no shipped report is about)."""
    report = json.loads((ROOT / "models" / f"{name}.evaluation.json").read_text())
    return None if is_stale(report, [read_record(ROOT / "models" / f"{name}.keras")]) else report


# The floors hold for whatever `python train.py` makes on any CPU (the honest test's 98.8%
# for the mlp), not only for the weights that shipped.

@pytest.mark.parametrize("name, floor", [("mlp", 0.988), ("cnn", 0.990), ("accurate", 0.995)])
def test_shipped_models_meet_their_floors_and_match_their_reports(mnist, name, floor):
    model = load_model(ROOT / "models" / f"{name}.keras")
    accuracy = np.mean(predict(model, mnist["x_test"]).argmax(axis=1) == mnist["y_test"])
    assert accuracy >= floor, f"{name}: {accuracy:.4f}"
    report = current_report(name)
    # Another CPU may round a borderline image the other way, hence one or two images' slack.
    assert report is None or abs(report["accuracy"] - accuracy) <= 2 / 10000

@pytest.mark.slow
def test_shipped_ensemble_matches_its_report(mnist):
    from digits.make.networks import ENSEMBLE

    report = json.loads((ROOT / "models" / "ensemble.evaluation.json").read_text())
    # the three different members, each the seed-0 model of its recipe
    assert [Path(p).name for p in report["model"]] == [f"{name}.keras" for name in ENSEMBLE]
    members = [load_model(ROOT / "models" / Path(p).name) for p in report["model"]]
    records = [
        json.loads((ROOT / "models" / Path(p).with_suffix(".json").name).read_text())
        for p in report["model"]
    ]
    assert [(r["model"], r["seed"]) for r in records] == [(name, 0) for name in ENSEMBLE]
    assert [m.name for m in members] == list(ENSEMBLE)
    probabilities = ensemble_probabilities(members, mnist["x_test"])
    accuracy = np.mean(probabilities.argmax(axis=1) == mnist["y_test"])
    assert accuracy >= 0.995, f"ensemble: {accuracy:.4f}"
    assert abs(report["accuracy"] - accuracy) <= 2 / 10000

@pytest.mark.slow
def test_default_mlp_trained_on_full_mnist_reaches_98_8_percent(cli, tmp_path, mnist):
    """The honest test: `python train.py` as shipped, then the test set, once."""
    model_path = tmp_path / "mlp.keras"
    status, _, _ = cli(train.main, "--output", str(model_path))
    assert status == 0
    accuracy = np.mean(
        predict(load_model(model_path), mnist["x_test"]).argmax(axis=1) == mnist["y_test"]
    )
    assert accuracy >= 0.988, f"default MLP reached only {100 * accuracy:.2f}%"

@pytest.mark.slow
def test_several_models_are_evaluated_as_one_ensemble(cli, tmp_path):
    for name in ("a", "b"):
        shutil.copy(ROOT / "models" / "cnn.keras", tmp_path / f"{name}.keras")
    status, out, _ = cli(
        evaluate.main,
        "--model",
        str(tmp_path / "a.keras"),
        str(tmp_path / "b.keras"),
        "--limit",
        "2000",
    )
    assert status == 0
    ensemble = json.loads((tmp_path / "ensemble.evaluation.json").read_text())
    assert ensemble["model"] == ["a.keras", "b.keras"]  # beside the report
    status, _, _ = cli(evaluate.main, "--model", str(tmp_path / "a.keras"), "--limit", "2000")
    single = json.loads((tmp_path / "a.evaluation.json").read_text())
    # two copies of one model average to that model
    assert ensemble["accuracy"] == single["accuracy"]
    assert ensemble["confusion_matrix"] == single["confusion_matrix"]

KERAS_ONLY = """
import json, sys
import numpy as np
import keras
assert "digits" not in sys.modules
model = keras.models.load_model(sys.argv[1])
with np.load("data/mnist.npz") as mnist:
    x_test, y_test = mnist["x_test"], mnist["y_test"]  # uint8, as stored
predicted = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
print(json.dumps({"input": str(x_test.dtype), "accuracy": float(np.mean(predicted == y_test))}))
"""
# the shipped classifiers: every model with an evaluation report (the detector has none)

SHIPPED = sorted(
    p.stem for p in (ROOT / "models").glob("*.keras") if p.with_suffix(".evaluation.json").exists()
)

@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.slow
def test_shipped_models_need_nothing_but_keras(name, mnist):
    """keras.models.load_model(path).predict(raw uint8 images) is right as it stands, in a
    Python that imports Keras and numpy only: the model does its own scaling and reshaping."""
    result = subprocess.run(
        [sys.executable, "-c", KERAS_ONLY, f"models/{name}.keras"],
        cwd=ROOT,  # KERAS_ONLY reads data/ and models/ from here
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["input"] == "uint8"
    # what evaluate.py computes for this file, and what it printed when the model shipped
    model = load_model(ROOT / "models" / f"{name}.keras")
    probabilities = ensemble_probabilities([model], mnist["x_test"])
    assert measured["accuracy"] == np.mean(probabilities.argmax(axis=1) == mnist["y_test"])
    report = current_report(name)
    assert report is None or abs(measured["accuracy"] - report["accuracy"]) <= 2 / 10000, report

def test_a_model_resaved_with_plain_keras_is_evaluated_with_a_one_line_warning(cli, tmp_path):
    shutil.copy(ROOT / "models" / "cnn.json", tmp_path / "cnn.json")
    keras.models.load_model(ROOT / "models" / "cnn.keras").save(tmp_path / "cnn.keras")
    status, out, err = cli(evaluate.main, "--model", str(tmp_path / "cnn.keras"), "--limit", "500")
    assert status == 0 and "test accuracy" in out
    assert err.count("\n") == 1, err
    assert err.startswith("warning: ") and "cnn.json describes another file than" in err
    assert (tmp_path / "cnn.evaluation.json").is_file()
