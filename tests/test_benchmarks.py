"""The benchmark's code path (its --quick mode) and its arithmetic."""

import json

import numpy as np
import pytest

from benchmarks import run as bench
from digits.make.networks import ENSEMBLE


def test_time_to_target_is_the_first_epoch_that_reaches_it():
    result = {"epoch_seconds": [10.0, 5.0, 5.0], "val_accuracy": [0.98, 0.991, 0.995]}
    assert bench.time_to(0.99, result) == 15.0
    assert bench.time_to(0.999, result) is None


@pytest.mark.slow
def test_quick_run_trains_every_model_and_writes_the_table(tmp_path, mnist):
    from digits.read.models import load_model

    output = tmp_path / "RESULTS.md"
    runs = bench.main(["--quick", "--output", str(output), "--save", str(tmp_path / "models")])
    assert set(runs) == set(bench.MODELS)
    for name, results in runs.items():
        (result,) = results
        # 20 steps lift every model well above chance (10%), except accurate and its other
        # members: on moving digits and with heavy dropout they have barely begun (11-16%
        # here, one or two classes); the full run is what measures them
        assert (0.1 if name in ENSEMBLE else 0.3) < result["test_accuracy"] <= 1.0, name
        assert result["epochs"] == 2 and len(result["epoch_seconds"]) == 2
        assert result["images_per_second"] > 0
    report = output.read_text()
    for name in bench.MODELS:
        assert f"| `{name}` |" in report
    assert "x" in report.split("| `cnn` |")[1].split("\n")[0]  # a speed ratio against the convnet
    assert "Targets:" in report and "fast CNN" in report
    assert not np.isnan([r[0]["test_accuracy"] for r in runs.values()]).any()
    # one seed of accurate is an ensemble of one: it scores what that model scores
    assert runs["accurate"][0]["ensemble_accuracy"] == runs["accurate"][0]["test_accuracy"]
    assert "ensemble of its 1 seed(s)" in report and "by how many: 1 " in report
    # the three different members' ensemble is what evaluate.py makes of the saved models
    from digits.read.inference import ensemble_probabilities

    members = [load_model(tmp_path / "models" / f"{name}.keras") for name in ENSEMBLE]
    probabilities = ensemble_probabilities(members, mnist["x_test"][:1000])
    accuracy = np.mean(probabilities.argmax(axis=1) == mnist["y_test"][:1000])
    assert runs["accurate"][0]["members_accuracy"] == accuracy
    assert "members, each under 20 minutes, >= 99.75%: `accurate`, `accurate-k3`, `accurate-k7`" in report
    # every recipe trains in float32 unless asked otherwise, on any CPU
    assert runs["mlp"][0]["precision"] == "float32" and "except `mlp`" not in report
    # --save keeps this project's trained models, each loadable and with its record
    saved = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert saved == sorted(
        f"{n}{ext}" for n in (*ENSEMBLE, "cnn", "mlp") for ext in (".json", ".keras")
    )
    model = load_model(tmp_path / "models" / "accurate.keras")
    record = json.loads((tmp_path / "models" / "accurate.json").read_text())
    assert record["command"].startswith("python -m benchmarks.run --quick")
    assert record["model"] == "accurate" and record["seed"] == 0 and model.name == "accurate"
    assert not [layer for layer in model.layers if type(layer).__name__.startswith("Random")]


@pytest.mark.slow
def test_serve_benchmark_quick_run_answers_every_drawing():
    from benchmarks import serve

    result = serve.main(["--quick"])
    for phase in ("quiet", "siege", "kill"):
        assert result[phase]["requests"] >= (200 if phase != "siege" else 1), phase
        assert result[phase]["requests_per_second"] > 0
        assert result[phase]["p99_ms"] >= result[phase]["p50_ms"] > 0
    # a flood of bodiless requests and trickling ones take no drawing's answer
    assert result["quiet"]["errors"] == result["siege"]["errors"] == 0
    assert result["siege_from_connection"] >= 300 and result["page_requests"] >= 1
    assert result["page_slowest_s"] < 10
    # a killed server process is replaced, and only requests on its connections fail, once each
    assert result["replaced_after_s"] < 5
    assert result["kill"]["errors"] == result["clients_that_failed"] <= 4
    assert result["most_failures_of_a_client"] <= 1
    # each of the flood's 4 addresses holds at most 64 connections in each of the 2 processes
    assert result["flood_still_held"] <= 4 * 64 * 2 < result["flood"] == 600
    # heavy images are answered, refused unread (413), or told to come back (503)
    assert result["heavy_requests"] >= 1 and set(result["heavy_answers"]) <= {200, 413, 503, None}
    # every error, the server's own too, is a JSON object
    assert all(is_json for _, is_json in result["error_answers"].values()), result["error_answers"]
    assert "onnxruntime" in result["server"] and result["peak_memory_mb"] > 0


@pytest.mark.slow
def test_startup_benchmark_quick_run_gives_the_same_answer_both_ways():
    from benchmarks import startup

    result = startup.main(["--quick"])
    assert result["onnx"]["answer"] == result["keras"]["answer"]
    assert result["onnx"]["answer"].startswith(f"{startup.IMAGE}: 3 (")
    assert 0 < result["ratio"] and result["onnx"]["peak_memory_mb"] > 0


@pytest.mark.slow
def test_determinism_benchmark_gives_the_same_weights_twice_with_deterministic_ops():
    from benchmarks import determinism

    runs = determinism.main(["--repeats", "2", "--epochs", "1", "--limit", "3000"])
    assert len({run["weights"] for run in runs[True]}) == 1
    assert len(runs[True]) == len(runs[False]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("model, reference, reference_epochs", [("mlp", "keras-mnist-mlp", 20), ("cnn", "keras-io-convnet", 15)])
def test_epoch_benchmark_times_every_variant_and_the_two_recipes(capsys, model, reference, reference_epochs):
    from benchmarks import epoch
    from digits.make.networks import NETWORKS

    seconds = epoch.main(["--model", model, "--rounds", "1", "--epochs", "2", "--limit", "2000"])
    assert set(seconds) == set(epoch.variants(model))
    out = capsys.readouterr().out
    assert out.count("\n| ") == len(seconds) + 1
    # the closing ratio is the recipe's epochs against the reference's, from these times
    epochs = NETWORKS[model].recipe.epochs
    ratio = epochs * seconds["the recipe"] / (reference_epochs * seconds[reference])
    assert f"{epochs} epoch(s) of the recipe against {reference_epochs} of {reference}: x{ratio:.3f}" in out
