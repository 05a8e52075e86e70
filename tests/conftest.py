import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from digits.cli import run
from digits.data import DEFAULT_PATH, load_mnist

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "datasets" / "mnist"


@pytest.fixture(scope="session")
def mnist():
    """The shipped, verified MNIST arrays (read once per test session)."""
    return load_mnist(DEFAULT_PATH)


@pytest.fixture
def cli(capsys):
    """Run a script's main() as the command line would; return (status, stdout, stderr)."""

    def call(main, *argv):
        with pytest.raises(SystemExit) as exit_info:
            run(lambda: main(list(argv)))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return call


def tiny_arrays(n_train=60, n_test=20, seed=0):
    """Random uint8 images and labels 0..9 in the MNIST layout, for shape-level tests."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.uint8) % 10,
    }
