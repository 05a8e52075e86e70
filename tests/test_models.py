import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digits import HOME
from digits.make.calibration import with_temperature
from digits.make.layers import MLP_DROPOUT, RandomAffine, SoftScan, augmentation, build
from digits.make.networks import ENSEMBLE, NETWORKS
from digits.provenance import read_record
from digits.read.models import load_model

RANDOM_LAYERS = ("RandomAffine", "RandomRotation", "RandomZoom", "RandomTranslation")
MODELS = {name: build(NETWORKS[name]) for name in ("mlp", "cnn")}  # built once for the property test


def build_model(name):
    return build(NETWORKS[name])


@pytest.mark.parametrize("network", NETWORKS.values(), ids=NETWORKS)
def test_each_network_takes_and_gives_what_its_description_says(network):
    """Raw pixel values 0-255 (uint8 or float: the same input) in, probabilities out."""
    model = build(network)
    assert model.name == network.name
    assert model.input_shape == (None, *network.input_shape)
    assert model.output_shape == (None, *network.output_shape)
    images = np.random.default_rng(0).integers(0, 256, (5, *network.input_shape), dtype=np.uint8)
    probabilities = model.predict(images, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(model.predict(images.astype(np.float32), verbose=0), probabilities)
    assert not {type(layer).__name__ for layer in model.layers} & set(RANDOM_LAYERS)


@pytest.mark.slow
@pytest.mark.parametrize("network", NETWORKS.values(), ids=NETWORKS)
def test_each_shipped_model_is_what_its_description_builds(network):
    """The shipped weights fit the builder's layers (with their calibrated temperature) and
    answer the same through them."""
    path = HOME / "models" / f"{network.name}.keras"
    shipped = load_model(path, network.output_shape, network.input_shape)
    calibration = read_record(path).get("calibration")
    built = build(network) if calibration is None else with_temperature(build(network), calibration["temperature"])
    built.set_weights(shipped.get_weights())
    images = np.random.default_rng(1).integers(0, 256, (4, *network.input_shape), dtype=np.uint8)
    np.testing.assert_allclose(built.predict(images, verbose=0), shipped.predict(images, verbose=0), atol=1e-6)


@pytest.mark.parametrize("name, shape", [("mlp", (784,)), ("cnn", (28, 28, 1)), ("accurate", (28, 28, 1))])
def test_first_layers_scale_to_unit_range_and_reshape(name, shape):
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8).repeat(14, 1).repeat(14, 2)
    model = build_model(name)
    rescale, reshape = model.layers[:2]
    assert type(rescale).__name__ == "Rescaling"
    scaled = np.asarray(reshape(rescale(x.astype(np.float32))))
    assert scaled.shape == (1, *shape) and scaled.dtype == np.float32
    image = scaled.reshape(1, 28, 28)
    assert image.min() == 0.0 and image.max() == 1.0
    assert image[0, 0, 0] == 0.0 and image[0, 0, 14] == 1.0
    assert np.isclose(image[0, 14, 0], 0.2) and np.isclose(image[0, 14, 14], 0.4)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5), st.data())
def test_first_layers_give_unit_range_float32_for_any_image(n, draw):
    pixels = draw.draw(st.binary(min_size=n * 784, max_size=n * 784))
    images = np.frombuffer(pixels, dtype=np.uint8).reshape(n, 28, 28).astype(np.float32)
    for name, shape in (("mlp", (784,)), ("cnn", (28, 28, 1))):
        rescale, reshape = MODELS[name].layers[:2]
        x = np.asarray(reshape(rescale(images)))
        assert x.shape == (n, *shape) and x.dtype == np.float32
        assert np.all((x >= 0) & (x <= 1))


def test_mlp_is_dense_relu_layers_with_dropout():
    layers = build_model("mlp").layers
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == ["Rescaling", "Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert [layer.rate for layer in layers if type(layer).__name__ == "Dropout"] == [MLP_DROPOUT] * 2


def test_augmentation_moves_digits_only_in_training():
    move = augmentation()
    x = np.random.default_rng(1).integers(0, 256, (8, 28, 28)).astype(np.float32)
    assert [type(layer).__name__ for layer in move.layers] == ["RandomAffine"]
    np.testing.assert_array_equal(move(x, training=False), x)
    moved = np.asarray(move(x, training=True))
    assert moved.shape == x.shape and not np.allclose(moved, x)
    # what moves in from beyond the edges is black background, not reflected ink
    assert np.asarray(move(np.full_like(x, 255), training=True)).min() == 0


def centroids(images):
    rows, cols = np.mgrid[:28, :28]
    ink = images.sum(axis=(1, 2))
    return np.stack([(images * rows).sum(axis=(1, 2)) / ink, (images * cols).sum(axis=(1, 2)) / ink], 1)


def test_random_affine_moves_each_image_its_own_way_within_its_limits(mnist):
    digit = mnist["x_train"][:1].astype(np.float32)
    copies = np.repeat(digit, 32, axis=0)
    shifted = np.asarray(RandomAffine(0, 0, 2.8, seed=1)(copies, training=True))
    moves = centroids(shifted) - centroids(digit)
    assert len({tuple(np.round(m, 3)) for m in moves}) == 32  # one move per image
    assert np.abs(moves).max() <= 2.8 + 0.05 and np.abs(moves).max() > 1
    # a shift alone keeps the ink (bilinear sampling redistributes it, the digit stays inside)
    np.testing.assert_allclose(shifted.sum(axis=(1, 2)), digit.sum(), rtol=0.02)
    # a rotation alone turns the digit about the centre: its distance from it is kept
    turned = np.asarray(RandomAffine(10.8, 0, 0, seed=1)(copies, training=True))
    radius = np.linalg.norm(centroids(turned) - 13.5, axis=1)
    np.testing.assert_allclose(radius, np.linalg.norm(centroids(digit) - 13.5), atol=0.1)
    # a zoom alone scales the ink by the square of its factor, at most 1.1 squared
    zoomed = np.asarray(RandomAffine(0, 0.1, 0, seed=1)(copies, training=True))
    ratio = zoomed.sum(axis=(1, 2)) / digit.sum()
    assert 0.8 < ratio.min() < 0.97 and 1.03 < ratio.max() < 1.23


def test_soft_scan_blurs_its_share_of_digits_as_a_small_scan_enlarged_would(mnist):
    import tensorflow as tf

    digits = mnist["x_train"][:200].astype(np.float32)
    np.testing.assert_array_equal(SoftScan(1.0)(digits, training=False), digits)
    soft = np.asarray(SoftScan(0.3, seed=2)(digits, training=True))
    changed = np.abs(soft - digits).max(axis=(1, 2)) > 1
    assert 0.2 < changed.mean() < 0.4
    np.testing.assert_array_equal(soft[~changed], digits[~changed])
    # each changed digit is one of the scans TensorFlow's resizing makes (area down to 8 to
    # 16 pixels, bilinear up), as inky at its darkest as the original
    scans = {
        side: tf.image.resize(tf.image.resize(digits[..., None], (side, side), "area"), (28, 28))[..., 0].numpy()
        for side in range(8, 17)
    }
    sides = set()
    for i in np.nonzero(changed)[0]:
        peak = digits[i].max()
        errors = {side: np.abs(scan[i] * peak / scan[i].max() - soft[i]).max() for side, scan in scans.items()}
        side = min(errors, key=errors.get)
        assert errors[side] < 0.05 and soft[i].max() == pytest.approx(peak, abs=0.01)
        sides.add(side)
    assert len(sides) >= 6  # one side per image, not one per batch
    assert [type(layer).__name__ for layer in augmentation(0.3).layers] == ["RandomAffine", "SoftScan"]
    assert NETWORKS["accurate"].recipe.soft_scans == 0.3 and NETWORKS["mlp"].recipe.soft_scans == 0


def test_ensemble_members_differ_in_their_first_convolution_only():
    built = [build_model(name) for name in ENSEMBLE]
    assert [model.name for model in built] == list(ENSEMBLE)
    assert [model.layers[2].kernel_size for model in built] == [(5, 5), (3, 3), (7, 7)]
    layers = [[(type(layer).__name__, layer.output.shape) for layer in m.layers] for m in built]
    assert layers[0] == layers[1] == layers[2]
    later = [[w.shape for w in model.weights[1:]] for model in built]
    assert later[0] == later[1] == later[2]
    assert len({NETWORKS[name].recipe for name in ENSEMBLE}) == 1


@pytest.mark.parametrize("network", NETWORKS.values(), ids=NETWORKS)
def test_each_shipped_model_holds_inference_layers_only(network):
    """Training's augmentation stays out of the saved file: what a user loads scales and
    reshapes its input first, and moves nothing at random."""
    archive = zipfile.ZipFile(HOME / "models" / f"{network.name}.keras")
    layers = [layer["class_name"] for layer in json.loads(archive.read("config.json"))["config"]["layers"]]
    layers = [kind for kind in layers if kind != "InputLayer"]
    assert layers[0] == "Rescaling" and layers[1] in ("Flatten", "Reshape")
    assert not set(layers) & set(RANDOM_LAYERS)
