"""How each network is trained: one frozen Recipe per model, plain values chosen on the
validation hold-out only. Importing this loads no Keras, so `python train.py --help`
answers at once.

`augment` trains on randomly moved digits (digits.models.augmentation); `mixed_precision`
computes in bfloat16, weights kept in float32, and the saved model in float32 anyway. No
recipe uses it by default, so that a recipe gives the same model on every CPU;
`python train.py --mixed-precision` asks for it (about 1.7x faster on CPUs with bfloat16
units, slower elsewhere, and a slightly different model).
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int
    learning_rate: float  # Adam's peak rate; then cosine decay to 0
    warmup: float = 0.0  # the share of the steps that warm up from a tenth of the peak
    label_smoothing: float = 0.0
    augment: bool = False
    adam_betas: tuple = (0.9, 0.999)
    mixed_precision: bool = False


RECIPES = {
    # Randomly moved digits teach a dense network what convolutions know by construction.
    # Validation accuracy in float32, seed 0, by digits.models.MLP_DROPOUT: none 99.00%,
    # 0.05 98.86%, 0.1 99.02%, 0.2 98.88% (in bfloat16 without dropout: 99.10%; 20 epochs
    # 99.06%; layers of 1024 99.14% in 1.4x the time; the old recipe, no moves, dropout 0.3,
    # 10 epochs: 98.60%)
    "mlp": Recipe(epochs=16, batch_size=256, learning_rate=2e-3, label_smoothing=0.1, augment=True),
    # ONE epoch of batch 96: a fifth of the steps warm up to a high rate, the rest cool
    # down, with Adam's faster-forgetting moments (betas 0.7, 0.9), as in
    # tuomaso/train_mnist_fast (validation accuracy, seeds 0-2: 99.12, 98.96, 98.84%; batch
    # 128: 98.90%; two epochs of batch 256: 99.18% at twice the time)
    "cnn": Recipe(epochs=1, batch_size=96, learning_rate=1e-2, warmup=0.2, adam_betas=(0.7, 0.9)),
    # 24 epochs, as many as fit well inside 20 minutes on 2 cores (validation accuracy,
    # seeds 0-2: 99.42, 99.46, 99.52%; with 15 epochs: 99.42, 99.50, 99.34%; the same net
    # with 32 and 64 channels and slower batch-norm statistics, 15 epochs: 99.28%)
    "accurate": Recipe(
        epochs=24, batch_size=256, learning_rate=4e-3, warmup=0.1, label_smoothing=0.1, augment=True
    ),
}
# An ensemble's members gain most from each other where they err differently: these see
# strokes through first convolutions of three sizes (as An et al. 2020 vary kernels
# between members), each trained alone with the recipe of `accurate`.
ENSEMBLE = ("accurate", "accurate-k3", "accurate-k7")
RECIPES.update({name: RECIPES["accurate"] for name in ENSEMBLE[1:]})
# The line reader: its data are lines made by digits.lines (LINES of them for training, a
# tenth as many for validation), so an epoch here is a pass over those lines. 8 epochs,
# about 30 minutes on 2 cores: 84.2% of the validation lines read exactly (their last
# epoch was the best; validation loss 0.81, training loss 0.50).
RECIPES["reader"] = Recipe(epochs=8, batch_size=128, learning_rate=3e-3, warmup=0.05)
LINES = 60000
MODEL_NAMES = tuple(RECIPES)
CLASSIFIERS = tuple(name for name in MODEL_NAMES if name != "reader")


def with_overrides(recipe, **values):
    """The recipe with the values that are not None put in (train.py's options)."""
    return replace(recipe, **{k: v for k, v in values.items() if v is not None})
