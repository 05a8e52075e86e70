import numpy as np
import pytest

from digits import DigitsError
from digits.backend import keras
from digits.data import prepare_images
from digits.models import MODEL_NAMES, RECIPES, build_model


@pytest.mark.parametrize(
    "name, input_shape", [("mlp", (784,)), ("cnn", (28, 28, 1)), ("best", (28, 28, 1))]
)
def test_models_map_images_to_ten_probabilities(name, input_shape):
    model = build_model(name)
    assert model.input_shape == (None, *input_shape)
    assert model.output_shape == (None, 10)
    x = prepare_images(
        np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8), input_shape
    )
    probabilities = np.asarray(model(x, training=False))
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_mlp_is_dense_relu_dropout():
    kinds = [type(layer).__name__ for layer in build_model("mlp").layers]
    assert kinds == ["Dropout", "Dense", "Dropout", "Dense", "Dropout", "Dense"]


def test_best_augments_only_in_training():
    model = build_model("best")
    x = prepare_images(
        np.random.default_rng(1).integers(0, 256, (8, 28, 28), dtype=np.uint8), (28, 28, 1)
    )
    augmentation = keras.Sequential(model.layers[:3])
    kinds = {type(layer).__name__ for layer in augmentation.layers}
    assert kinds == {"RandomRotation", "RandomZoom", "RandomTranslation"}
    np.testing.assert_array_equal(augmentation(x, training=False), x)
    moved = np.asarray(augmentation(x, training=True))
    assert moved.shape == x.shape and not np.allclose(moved, x)
    # what moves in from beyond the edges is black background, not reflected ink
    assert np.asarray(augmentation(np.ones_like(x), training=True)).min() == 0


def test_every_model_has_a_recipe():
    assert set(MODEL_NAMES) == set(RECIPES) == {"mlp", "cnn", "best"}


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(DigitsError, match="unknown model 'resnet'; choose one of: mlp, cnn, best"):
        build_model("resnet")
