"""The README's results and calibration tables, made from the JSON files that train.py and
evaluate.py wrote.

    python -m digits.report [MODELS_DIR]

Prints one Markdown row per model that has both a training record (<name>.json) and an
evaluation report (<name>.evaluation.json), and one for an ensemble that evaluate.py
scored (ensemble.evaluation.json), so the numbers in README.md are never typed by hand.
An evaluation of other weights than the model's record describes (say, the model was
trained again since) is stale: its row says so and names the command that renews it.
"""

import json
import sys
from pathlib import Path

from digits import MODELS

HEADER = (
    "| model | parameters | epochs | training time | best validation accuracy "
    "| test accuracy | test errors | inference |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def read_json(path):
    return json.loads(Path(path).read_text())


def evaluations(models_dir):
    """(name, evaluation, [the records of the models it scored]) for every evaluation in
    `models_dir` whose models have records, the single models by name, the ensemble last."""
    found = []
    for path in sorted(Path(models_dir).glob("*.evaluation.json")):
        report = read_json(path)
        members = report["model"] if isinstance(report["model"], list) else [report["model"]]
        records = [Path(models_dir) / Path(m).with_suffix(".json").name for m in members]
        if all(r.is_file() for r in records):
            found.append((path.name.split(".")[0], report, [read_json(r) for r in records]))
    return sorted(found, key=lambda item: (item[0] == "ensemble", item[0]))


def is_stale(report, records):
    """Whether the evaluation scored other weights than the records describe (or does not
    say which it scored)."""
    scored = report.get("weights_sha256")
    scored = scored if isinstance(scored, list) else [scored]
    return None in scored or scored != [record.get("weights_sha256") for record in records]


def renew_command(report):
    members = report["model"] if isinstance(report["model"], list) else [report["model"]]
    return "python evaluate.py --model " + " ".join(f"models/{Path(m).name}" for m in members)


def results_table(models_dir=MODELS):
    rows = [HEADER]
    for name, report, records in evaluations(models_dir):
        if name == "ensemble":
            label = "ensemble of " + ", ".join(f"`{Path(m).stem}`" for m in report["model"])
            epochs, validation = "—", "—"
        else:
            label = f"`{name}`"
            epochs, validation = records[0]["config"]["epochs"], f"{100 * records[0]['best_val_accuracy']:.2f}%"
        parameters = f"{sum(r['parameters'] for r in records):,}"
        seconds = f"{sum(r['training_seconds'] for r in records):.0f} s"
        rows.append(row(label, parameters, epochs, seconds, validation, report, is_stale(report, records)))
    return "\n".join(rows)


def row(name, parameters, epochs, training_time, validation, report, stale=False):
    if stale:
        scored = f"stale: the model changed since; `{renew_command(report)}` | — | —"
    else:
        scored = (
            f"**{100 * report['accuracy']:.2f}%** | {report['errors']} / {report['images']} "
            f"| {report['images_per_second']:,.0f} images/s"
        )
    return f"| {name} | {parameters} | {epochs} | {training_time} | {validation} | {scored} |"


CALIBRATION_HEADER = (
    "| model | temperature | test ECE without | test ECE with |\n| --- | ---: | ---: | ---: |"
)


def calibration_table(models_dir=MODELS):
    """Each evaluated model's temperature and expected calibration error, without and with
    (the evaluations that are not stale)."""
    rows = [CALIBRATION_HEADER]
    for name, report, records in evaluations(models_dir):
        if "temperatures" not in report or is_stale(report, records):
            continue
        rows.append(
            f"| `{name}` | {', '.join(f'{t:.3f}' for t in report['temperatures'])} "
            f"| {100 * report['expected_calibration_error_without_temperature']:.2f}% "
            f"| **{100 * report['expected_calibration_error']:.2f}%** |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else MODELS
    print(results_table(folder))
    print()
    print(calibration_table(folder))
