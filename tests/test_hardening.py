"""What a newcomer on another machine, and a hostile world, found (the hardening issue):
each finding, held by a test."""

import os
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from digits import DigitsError, DigitsWarning
from digits.cli import predict, train
from digits.make.store import save_model
from digits.provenance import read_record
from digits.make.progress import one_run_per_output

# Run a script (or, after -m, a module) as if only requirements-infer.txt were installed:
# these packages are missing.
WITHOUT = """
import runpy, sys

MISSING = sys.argv[1].split(",")

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Missing())
if sys.argv[2] == "-m":
    sys.argv = sys.argv[3:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""
LIGHT = "tensorflow,keras,h5py,matplotlib,tf2onnx,onnx,ai_edge_litert"


def run_without(missing, *argv):
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, missing, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["train.py", "--limit", "100", "--output", "never-written.keras"],
        ["evaluate.py", "--model", "models/cnn.keras"],
        ["export.py", "--model", "models/cnn.keras"],
        ["visualize.py", "--model", "models/cnn.keras"],
        ["-m", "digits.cli.calibrate", "models/cnn.keras"],
    ],
)
@pytest.mark.slow
def test_the_light_install_answers_the_full_installs_scripts_in_one_line(argv):
    result = run_without(LIGHT, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "light install" in result.stderr and "pip install -r requirements.txt" in result.stderr


@pytest.mark.slow
def test_help_and_a_missing_model_are_answered_without_tensorflow():
    """train.py --help, and export.py refusing a missing file, never import TensorFlow."""
    assert run_without("tensorflow,keras", "train.py", "--help").returncode == 0
    result = run_without("tensorflow,keras", "export.py", "--model", "missing.keras")
    assert result.returncode == 2 and "no model at missing.keras" in result.stderr


FULL_DISK = """
import errno, sys
import keras
from digits.cli import train

def full(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

keras.callbacks.BackupAndRestore.on_epoch_end = full
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_full_disk_during_training_is_one_line_and_leaves_nothing_behind(tmp_path):
    """Keras's per-epoch backup cannot be written (on a small tmpfs: the same, with h5py
    crashing the interpreter as it was torn down, before)."""
    output = tmp_path / "m.keras"
    args = ["--model", "cnn", "--limit", "1000", "--output", str(output)]
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no model, progress or lock


def test_predict_holds_no_picture_after_it_is_read(tmp_path, monkeypatch, cli):
    """A folder of any size runs in flat memory: no decoded picture outlives its line."""
    import digits.read.images

    for i in range(6):
        Image.new("L", (600, 400), 255).save(tmp_path / f"{i}.png")
    loaded = []  # weak references: they do not keep a picture alive
    load = digits.read.images.load_picture

    class Picture(np.ndarray):  # an ndarray that weak references can point to
        pass

    def tracked(path, name=None):
        held = sum(ref() is not None for ref in loaded)  # the loop's last one, at most
        assert held <= 1, f"{held} earlier pictures are still held"
        grey, scale = load(path, name)
        grey = grey.view(Picture)
        loaded.append(weakref.ref(grey))
        return grey, scale

    monkeypatch.setattr(digits.read.images, "load_picture", tracked)
    status, out, _ = cli(predict.main, "--backend", "keras", str(tmp_path))
    assert status == 0 and out.count("\n") == 6


@pytest.mark.slow
def test_a_quick_smoke_run_with_a_small_limit_holds_out_a_tenth(tmp_path, cli):
    output = tmp_path / "m.keras"
    status, out, err = cli(train.main, "--model", "cnn", "--limit", "1200", "--output", str(output))
    assert status == 0, err
    assert read_record(output)["config"]["validation_images"] == 120


def test_a_data_file_that_is_not_there_is_named_not_downloaded(tmp_path, cli):
    status, _, err = cli(train.main, "--data", str(tmp_path / "typo.npz"), "--output", str(tmp_path / "m.keras"))
    assert status == 2 and "typo.npz: no such file" in err


def test_a_later_run_removes_the_temporary_files_of_a_killed_save(tmp_path):
    output = tmp_path / "m.keras"
    stale = [tmp_path / ".m.x1y2z3.tmp.keras", tmp_path / ".m.a9b8c7.tmp.json"]
    for path in stale:
        path.write_bytes(b"half a model")
    other = tmp_path / ".other.q1w2e3.tmp.keras"  # another output's: not ours to remove
    other.write_bytes(b"")
    with one_run_per_output(output):
        assert not any(path.exists() for path in stale) and other.exists()


def test_an_image_over_pillows_own_limit_is_called_too_large(tmp_path):
    from digits.read.images import load_picture

    path = tmp_path / "huge.png"
    Image.new("1", (20000, 9000)).save(path)  # 180 megapixels, a few kilobytes
    with pytest.raises(DigitsError, match="too large: over the 40 megapixel limit"):
        load_picture(path)[0]


def test_a_picture_that_may_not_be_read_says_so(tmp_path, monkeypatch):
    import digits.read.images

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(digits.read.images.Image, "open", denied)
    with pytest.raises(DigitsError, match=r"x.png: cannot be read \(Permission denied\)"):
        digits.read.images.load_picture(tmp_path / "x.png")[0]


def test_a_folder_that_cannot_be_read_is_named_in_a_warning(tmp_path, monkeypatch):
    import digits.read.images

    (tmp_path / "a.png").write_bytes(b"")
    real_walk = os.walk

    def walk(top, onerror=None):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top)

    monkeypatch.setattr(digits.read.images.os, "walk", walk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = digits.read.images.image_files([tmp_path])
    assert files == [tmp_path / "a.png"]
    (warning,) = [w for w in caught if issubclass(w.category, DigitsWarning)]
    assert "locked: cannot read this folder (Permission denied)" in str(warning.message)


def test_export_refuses_a_model_that_is_not_one_of_ours(tmp_path, cli):
    from digits.cli import export
    from digits.backend import keras

    path = tmp_path / "three.keras"
    keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(3)]).save(path)
    status, _, err = cli(export.main, "--model", str(path))
    assert status == 2 and "nothing was exported" in err
    assert not (tmp_path / "three.onnx").exists()


def test_the_record_has_a_checksum_of_the_weights_that_identical_saves_share(tmp_path):
    from digits.read.models import load_model

    model = load_model(ROOT / "models" / "cnn.keras")
    save_model(model, {}, tmp_path / "a.keras")
    save_model(model, {}, tmp_path / "b.keras")
    a, b = read_record(tmp_path / "a.keras"), read_record(tmp_path / "b.keras")
    assert a["weights_sha256"] == b["weights_sha256"]
    assert len(a["weights_sha256"]) == 64


def test_the_code_has_a_licence_and_the_data_its_own():
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY-SA 3.0" in licence
    assert "CC BY-SA 3.0" in (ROOT / "data" / "README.md").read_text()
