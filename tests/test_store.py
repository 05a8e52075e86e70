"""The model store: saving with a record, and loading safely."""

import numpy as np
import pytest
from conftest import ROOT

from digits import DigitsError
from digits.backend import keras
from digits.make.layers import build
from digits.make.networks import NETWORKS
from digits.make.store import save_model
from digits.provenance import RecordMismatch, read_record, sha256_of
from digits.read.models import load_model


# ---------------------------------------------------------------------- loading models


@pytest.fixture(scope="module")
def saved_mlp(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "mlp.keras"
    build(NETWORKS["mlp"]).save(path)
    return path


def test_load_model_accepts_keras_and_h5(saved_mlp, tmp_path):
    model = load_model(saved_mlp)
    h5 = tmp_path / "mlp.h5"
    model.save(h5)
    assert load_model(h5).output_shape == (None, 10)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "absent.keras", "no model at .*python train.py"),
        (lambda p: p, "is a directory"),
        (
            lambda p: (p / "notes.txt").write_text("hi") and p / "notes.txt",
            "must end in .keras or .h5",
        ),
        (lambda p: (p / "empty.keras").write_bytes(b"") or p / "empty.keras", "not a Keras model"),
        (
            lambda p: (p / "junk.h5").write_bytes(b"\x89HDF junk") and p / "junk.h5",
            "not a readable Keras model",
        ),
    ],
)
def test_load_model_errors_say_what_is_wrong(tmp_path, make, message):
    with pytest.raises(DigitsError, match=message):
        load_model(make(tmp_path))


def test_truncated_keras_file_is_refused(saved_mlp, tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes(saved_mlp.read_bytes()[: saved_mlp.stat().st_size // 2])
    with pytest.raises(DigitsError, match="not a Keras model"):
        load_model(path)


def test_a_model_for_another_task_is_refused(tmp_path):
    three_classes = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    path = tmp_path / "three.keras"
    three_classes.save(path)
    with pytest.raises(DigitsError, match=r"gives \(3,\); an MNIST model here must"):
        load_model(path)


# ------------------------------------------------------------------- saving, records


def test_save_model_writes_the_model_and_its_record_with_checksums(tmp_path):
    import json


    model = build(NETWORKS["cnn"])
    written = save_model(model, {"model": "cnn", "seed": 4}, tmp_path / "m.keras", h5_copy=True)
    assert [p.name for p in written] == ["m.keras", "m.h5"]
    record = json.loads((tmp_path / "m.json").read_text())
    assert record["model"] == "cnn" and record["seed"] == 4
    assert record["files"] == {p.name: sha256_of(p) for p in written}
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    for path in written:
        np.testing.assert_allclose(
            load_model(path).predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6
        )


def test_a_model_resaved_with_plain_keras_loads_with_a_warning(tmp_path):

    path = tmp_path / "m.keras"
    save_model(build(NETWORKS["mlp"]), {"model": "mlp"}, path)
    build(NETWORKS["mlp"]).save(path)  # a perfectly good model, but another file
    with pytest.warns(RecordMismatch, match="m.json describes another file than .*m.keras"):
        model = load_model(path)
    assert model.output_shape == (None, 10)


def test_a_model_without_a_record_loads_without_a_warning(saved_mlp, recwarn):
    load_model(saved_mlp)
    assert not [w for w in recwarn if "describes another file" in str(w.message)]


def test_the_record_has_a_checksum_of_the_weights_that_identical_saves_share(tmp_path):
    from digits.read.models import load_model

    model = load_model(ROOT / "models" / "cnn.keras")
    save_model(model, {}, tmp_path / "a.keras")
    save_model(model, {}, tmp_path / "b.keras")
    a, b = read_record(tmp_path / "a.keras"), read_record(tmp_path / "b.keras")
    assert a["weights_sha256"] == b["weights_sha256"]
    assert len(a["weights_sha256"]) == 64
