import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL, DEFAULT_READER
from digits.cli import run
from digits.make.data import DEFAULT_PATH, load_mnist

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "datasets" / "mnist"


def needs_system_package(what, install):
    """Skip a test whose Debian package is missing, in one line naming the install command;
    under CI (.ci/run installs them) a missing package is a failure instead."""
    message = f"needs {what}: {install}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (.ci/run should have installed it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def fonts():
    """The font packages of data/font-packages.txt, which the line generators draw in."""
    from digits.make.fonts import INSTALL_COMMAND, missing_packages

    missing = missing_packages()
    if missing:
        needs_system_package(f"{len(missing)} font packages that are not installed", INSTALL_COMMAND)


@pytest.fixture(scope="session")
def mnist():
    """The shipped, verified MNIST arrays (read once per test session)."""
    return load_mnist(DEFAULT_PATH)


@pytest.fixture(scope="session")
def shipped_reader():
    """The shipped models as predict.py and serve.py read with them, on Keras: a Reader
    with the default model, line reader and detector (reader.model is the digit model)."""
    from digits.read.reading import open_reader

    return open_reader(DEFAULT_MODEL, DEFAULT_READER, DEFAULT_DETECTOR, "keras")


@pytest.fixture(scope="session")
def shipped_model():
    """models/NAME.keras, loaded once per session: shipped_model("cnn")."""
    from digits.read.models import load_model

    loaded = {}

    def load(name, **shape):
        if name not in loaded:
            loaded[name] = load_model(ROOT / "models" / f"{name}.keras", **shape)
        return loaded[name]

    return load


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
