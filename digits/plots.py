"""PNG pictures of a model's results, drawn with matplotlib without any display.

Each function takes plain arrays and a path and writes one PNG (atomically).
Figures are built with matplotlib.figure.Figure rather than pyplot, so nothing
here needs a window, a backend choice, or global state.
"""

import numpy as np
from matplotlib.figure import Figure

from digits.files import atomic_output


def _save(fig, path):
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=100)


def digit_grid(images, y_true, y_pred, confidence, path, title, columns=8):
    """A grid of 28x28 digits, each titled 'true 7 → 7 (99.8%)'; wrong ones in red."""
    n = len(images)
    rows = max(1, int(np.ceil(n / columns)))
    fig = Figure(figsize=(columns * 1.25, rows * 1.45 + 0.6), layout="constrained")
    fig.suptitle(title, fontsize=13)
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
        wrong = y_true[i] != y_pred[i]
        ax.set_title(
            f"true {y_true[i]} → {y_pred[i]}\n{100 * confidence[i]:.1f}%",
            fontsize=9,
            color="tab:red" if wrong else "black",
        )
    _save(fig, path)


def model_inputs(rows, path, limit=30):
    """Each picture as given, beside the 28x28 digits the model saw in it, with the answers.

    rows: (path, original grey levels, its digits.read.reading.Reading).
    """
    rows = rows[:limit]
    columns = 1 + max(1, max(len(reading.digits) for _, _, reading in rows))
    fig = Figure(figsize=(2.2 + 1.3 * (columns - 1), 1.9 * len(rows) + 0.3), layout="constrained")
    axes = fig.subplots(
        len(rows), columns, squeeze=False, gridspec_kw={"width_ratios": [2] + [1] * (columns - 1)}
    )
    for (name, original, reading), row in zip(rows, axes, strict=True):
        row[0].imshow(original, cmap="gray", vmin=0, vmax=1)
        said = reading.number if reading.number is not None else "not a digit"
        row[0].set_title(f"{str(name)[-28:]}\n→ {said}", fontsize=8)
        for ax, digit in zip(row[1:], reading.digits):
            ax.imshow(digit.input, cmap="gray", vmin=0, vmax=1)
            seen = digit.digit if digit.digit is not None else "not a digit"
            ax.set_title(f"{seen} ({100 * digit.confidence:.0f}%)", fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row[1 + len(reading.digits) :]:
            ax.set_axis_off()
    _save(fig, path)


def confusion_heatmap(cm, path, title):
    """The 10x10 confusion matrix as a heat map, counts written in each cell.

    The colour scale is logarithmic: the diagonal holds about a thousand images per
    digit and the mistakes a handful, and both should be visible.
    """
    cm = np.asarray(cm)
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(np.log1p(cm), cmap="Blues")
    for (i, j), count in np.ndenumerate(cm):
        if count:
            dark = np.log1p(count) > 0.6 * np.log1p(cm.max())
            ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(cm.shape[1]))
    ax.set_yticks(range(cm.shape[0]))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label("log(1 + count)")
    _save(fig, path)


def training_curves(history, path, title):
    """Loss and accuracy per epoch, training beside validation, from a Keras history dict."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = Figure(figsize=(10, 4), layout="constrained")
    fig.suptitle(title)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, metric in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)
