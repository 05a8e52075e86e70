import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digits import DigitsError
from digits.lines import CLASSES, FRAMES, HEIGHT, WIDTH
from digits.models import MLP_DROPOUT, RandomAffine, augmentation, build_model
from digits.recipes import CLASSIFIERS, ENSEMBLE, MODEL_NAMES, RECIPES

RANDOM_LAYERS = ("RandomAffine", "RandomRotation", "RandomZoom", "RandomTranslation")
MODELS = {name: build_model(name) for name in ("mlp", "cnn")}  # built once for the property test


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_models_take_raw_images_and_give_ten_probabilities(name):
    model = build_model(name)
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    probabilities = model.predict(images, verbose=0)  # uint8, as MNIST stores it
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # uint8 or float pixel values 0-255 are the same input
    np.testing.assert_allclose(model.predict(images.astype(np.float32), verbose=0), probabilities)


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


def test_the_reader_takes_a_strip_and_gives_each_frame_its_probabilities():
    model = build_model("reader")
    assert model.input_shape == (None, HEIGHT, WIDTH)
    assert model.output_shape == (None, FRAMES, CLASSES)
    strips = np.random.default_rng(0).integers(0, 256, (3, HEIGHT, WIDTH), dtype=np.uint8)
    frames = model.predict(strips, verbose=0)
    np.testing.assert_allclose(frames.sum(axis=-1), 1.0, rtol=1e-5)


def test_mlp_is_dense_relu_layers_with_dropout():
    layers = build_model("mlp").layers
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == ["Rescaling", "Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert [layer.rate for layer in layers if type(layer).__name__ == "Dropout"] == [MLP_DROPOUT] * 2


def test_no_recipe_trains_in_bfloat16_unless_asked():
    """The same command gives the same model on every CPU (bfloat16 units or not)."""
    assert not any(recipe.mixed_precision for recipe in RECIPES.values())


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_models_hold_inference_layers_only(name):
    kinds = {type(layer).__name__ for layer in build_model(name).layers}
    assert not kinds & set(RANDOM_LAYERS)


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


def test_the_fast_cnn_alone_learns_from_the_digits_as_they_are():
    augmented = {name for name, recipe in RECIPES.items() if recipe.augment}
    assert augmented == {"mlp", *ENSEMBLE} and "accurate" in ENSEMBLE


def test_every_model_has_a_recipe():
    assert set(MODEL_NAMES) == set(RECIPES) == {"mlp", "cnn", *ENSEMBLE, "reader"}
    assert set(CLASSIFIERS) == set(MODEL_NAMES) - {"reader"}
    assert ENSEMBLE == ("accurate", "accurate-k3", "accurate-k7")


def test_ensemble_members_differ_in_their_first_convolution_only():
    built = [build_model(name) for name in ENSEMBLE]
    assert [model.name for model in built] == list(ENSEMBLE)
    assert [model.layers[2].kernel_size for model in built] == [(5, 5), (3, 3), (7, 7)]
    layers = [[(type(layer).__name__, layer.output.shape) for layer in m.layers] for m in built]
    assert layers[0] == layers[1] == layers[2]
    later = [[w.shape for w in model.weights[1:]] for model in built]
    assert later[0] == later[1] == later[2]
    assert all(RECIPES[name] == RECIPES["accurate"] for name in ENSEMBLE)


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(
        DigitsError,
        match="unknown model 'resnet'; choose one of: mlp, cnn, accurate, accurate-k3, accurate-k7, reader",
    ):
        build_model("resnet")
