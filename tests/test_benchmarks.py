"""The benchmark's code path (its --quick mode) and its arithmetic."""

import numpy as np

from benchmarks import run as bench
from digits.backend import keras


def test_forward_flops_counts_convolutions_and_dense_layers():
    model = keras.Sequential(
        [
            keras.Input((5, 5, 1)),
            keras.layers.Conv2D(2, 3),  # 3x3x2 outputs, each 3*3*1 multiply-adds
            keras.layers.Flatten(),
            keras.layers.Dense(4),  # 18 inputs x 4 outputs
        ]
    )
    assert bench.forward_flops(model) == 2 * (3 * 3 * 2 * 3 * 3 * 1) + 2 * 18 * 4


def test_time_to_target_is_the_first_epoch_that_reaches_it():
    result = {"epoch_seconds": [10.0, 5.0, 5.0], "val_accuracy": [0.98, 0.991, 0.995]}
    assert bench.time_to(0.99, result) == 15.0
    assert bench.time_to(0.999, result) is None


def test_quick_run_trains_every_model_and_writes_the_table(tmp_path):
    output = tmp_path / "RESULTS.md"
    runs = bench.main(["--quick", "--output", str(output)])
    assert set(runs) == set(bench.MODELS)
    for name, results in runs.items():
        (result,) = results
        assert 0.3 < result["test_accuracy"] <= 1.0, name
        assert result["epochs"] == 2 and len(result["epoch_seconds"]) == 2
        assert result["images_per_second"] > 0 and result["flops"] > 0
    report = output.read_text()
    for name in bench.MODELS:
        assert f"| `{name}` |" in report
    assert "x" in report.split("| `cnn` |")[1].split("\n")[0]  # a speed ratio against the convnet
    assert "Targets:" in report and "fast CNN" in report
    assert not np.isnan([r[0]["test_accuracy"] for r in runs.values()]).any()
