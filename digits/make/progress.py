"""A training run's progress on disk, and the lock that makes it the only run on its output.

A run that writes models/mlp.keras holds models/.mlp.keras.lock while it lasts and keeps
its progress in models/.mlp.resume/, in Keras's own formats:

    config.json            the settings it started with: a resumed run must have the same
    keras/                 BackupAndRestore: the last finished epoch's weights, optimizer
                           state and number
    history.csv            CSVLogger(append=True): every finished epoch's losses, accuracies
                           and seconds
    best-NNN.weights.h5    ModelCheckpoint(save_best_only=True): the weights of each epoch
                           that did better than every epoch before it

Started again with the same settings, an interrupted run resumes after its last finished
epoch and picks its best epoch among all of them, those before the interruption too.
"""

import contextlib
import csv
import fcntl
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.files import write_json


def progress_folder(model_path):
    """models/mlp.keras -> models/.mlp.resume/, where a run keeps its progress."""
    path = Path(model_path)
    return path.with_name(f".{path.stem}.resume")


def lock_path(model_path):
    """models/mlp.keras -> models/.mlp.keras.lock, which train.py holds while it runs."""
    path = Path(model_path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def one_run_per_output(model_path):
    """Hold a lock on `model_path`'s output for the length of a `with`, or refuse at once.

    The lock is the operating system's (flock), held on an open file: it goes away with
    the process that held it, so a crashed or killed run never leaves it stuck.
    """
    path = Path(model_path)
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise DigitsError(
                f"another train.py (pid {handle.read().strip() or '?'}) is writing {path}; "
                f"wait for it to finish, or give this run another --output"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        # Temporary files of this output's save that a killed run left behind: with the
        # lock held, no other run can be writing them (digits.files.atomic_output).
        for stale in path.parent.glob(f".{path.stem}.*.tmp*"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def read_history(folder):
    """history.csv -> {metric: [value per finished epoch]}. An epoch that ran again after
    an interruption (its row written, Keras's backup of it not) counts once, as its last run."""
    path = Path(folder) / "history.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        rows = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    history = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            if key != "epoch":
                history.setdefault(key, []).append(float(value))
    return history


class Progress:
    """The callbacks that keep a run's progress in `folder`, and what they kept.

    `monitor` and `mode` say which epoch is best ("val_accuracy", "max"); `backup` adds
    Keras's BackupAndRestore, without which nothing survives the process (the
    benchmark's runs, in a temporary folder).
    """

    def __init__(self, folder, monitor, mode, backup=True):
        self.folder, self.monitor, self.mode = Path(folder), monitor, mode
        self.checkpoint = keras.callbacks.ModelCheckpoint(
            str(self.folder / "best-{epoch:03d}.weights.h5"),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            save_weights_only=True,
        )
        self.clock = EpochClock(self)
        # The order matters where a run may be killed between two of them: the best
        # weights are written before the history says the epoch is done, and the history
        # before Keras's backup does (an epoch the backup lacks runs again).
        self.callbacks = [
            self.checkpoint,
            self.clock,
            keras.callbacks.CSVLogger(str(self.folder / "history.csv"), append=True),
            ProgressBar(),
        ]
        if backup:
            self.callbacks.append(
                keras.callbacks.BackupAndRestore(str(self.folder / "keras"), double_checkpoint=True)
            )

    def history(self, before=None):
        """Every finished epoch's figures (of the epochs before `before` only, if given)."""
        history = read_history(self.folder)
        return {k: v[:before] for k, v in history.items()} if before is not None else history

    def best(self, history=None):
        """(the best epoch, counted from 1, and its figure), or (None, None) before any."""
        history = self.history() if history is None else history
        values = np.array(history.get(self.monitor, []), dtype=float)
        if not np.isfinite(values).any():
            return None, None
        pick = np.nanargmax if self.mode == "max" else np.nanargmin
        epoch = int(pick(values))  # the first of equals, as ModelCheckpoint keeps it
        return epoch + 1, float(values[epoch])

    def best_weights(self, epoch):
        """The path of the weights of `epoch` (the best, from best()); an error if there is none."""
        if epoch is None:
            raise DigitsError(f"training diverged: no epoch has a finite {self.monitor}")
        return self.folder / f"best-{epoch:03d}.weights.h5"

    def resume_at(self, epoch):
        """A run (re)starts at `epoch` (from 0): forget what later epochs left behind, and
        let ModelCheckpoint save only an epoch that beats the ones before."""
        for path in self.folder.glob("best-*.weights.h5"):
            if int(path.name[5:8]) > epoch:
                path.unlink()
        _, value = self.best(self.history(before=epoch))
        if value is not None:
            self.checkpoint.best = value


class ProgressBar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, never past the epoch's last step. Running several steps per
    call (steps_per_execution), Keras reports each call's last step as if it were whole,
    which on an epoch's last call lies beyond the epoch (224/215, and a negative ETA)."""

    def _update_progbar(self, batch, logs=None):
        if self.target is not None:
            batch = min(batch, self.target - 1)
        super()._update_progbar(batch, logs)


class EpochClock(keras.callbacks.Callback):
    """Adds each epoch's wall seconds to its logs (so CSVLogger keeps them), notes the
    epoch a run started at, and tells Progress where that is."""

    def __init__(self, progress):
        super().__init__()
        self.progress, self.started_at = progress, None

    def on_epoch_begin(self, epoch, logs=None):
        if self.started_at is None:
            self.started_at = epoch
            self.progress.resume_at(epoch)
            if epoch > 0:
                print(f"resuming an interrupted run at epoch {epoch + 1}")
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_seconds"] = time.perf_counter() - self._start


def resumable_run(folder, config, resume, monitor="val_accuracy", mode="max", backup=True):
    """The Progress of a run with `config` in `folder`: an interrupted one's, if `folder`
    holds one with the same config, else a fresh one.

    resume: None resumes a matching interrupted run if there is one, True insists on one,
    False discards any.
    """
    folder = Path(folder)
    backup_made = (folder / "keras" / "training_metadata.json").is_file()
    if resume is False or not backup_made or not (folder / "config.json").is_file():
        if resume:
            raise DigitsError(f"--resume: there is no interrupted run to resume in {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_json(folder / "config.json", config)
        return Progress(folder, monitor, mode, backup)
    try:
        saved_config = json.loads((folder / "config.json").read_text())
        read_history(folder)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DigitsError(
            f"the saved progress in {folder} is unreadable ({err}); add --fresh to start over"
        ) from None
    if saved_config != config:
        changed = ", ".join(
            f"{k} {saved_config.get(k)} -> {config.get(k)}"
            for k in config
            if saved_config.get(k) != config.get(k)
        )
        raise DigitsError(
            f"an interrupted run with other settings ({changed}) is saved in {folder}; "
            f"run the same command as before to resume it, or add --fresh to discard it"
        )
    return Progress(folder, monitor, mode, backup)
