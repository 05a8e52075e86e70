"""The README's results and calibration tables, made from the JSON files that train.py and
evaluate.py wrote.

    python -m digits.report [MODELS_DIR]

Prints one Markdown row per model that has both a training record (<name>.json) and an
evaluation report (<name>.evaluation.json), and one for an ensemble that evaluate.py
scored (ensemble.evaluation.json), so the numbers in README.md are never typed by hand.
"""

import json
import sys
from pathlib import Path

HEADER = (
    "| model | parameters | epochs | training time | best validation accuracy "
    "| test accuracy | test errors | inference |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def results_table(models_dir="models"):
    rows = [HEADER]
    evaluations = Path(models_dir).glob("*.evaluation.json")
    for evaluation_path in sorted(evaluations, key=lambda p: p.name.split(".")[0]):
        record_path = evaluation_path.with_name(evaluation_path.name.replace(".evaluation", ""))
        if not record_path.is_file():
            continue
        record = json.loads(record_path.read_text())
        report = json.loads(evaluation_path.read_text())
        rows.append(
            row(
                f"`{record_path.stem}`",
                f"{record['parameters']:,}",
                record["config"]["epochs"],
                f"{record['training_seconds']:.0f} s",
                f"{100 * record['best_val_accuracy']:.2f}%",
                report,
            )
        )
    ensemble = Path(models_dir) / "ensemble.evaluation.json"
    if ensemble.is_file():
        report = json.loads(ensemble.read_text())
        members = [Path(member).name for member in report["model"]]
        records = [
            json.loads((Path(models_dir) / Path(m).with_suffix(".json")).read_text())
            for m in members
        ]
        rows.append(
            row(
                "ensemble of " + ", ".join(f"`{Path(m).stem}`" for m in members),
                f"{sum(r['parameters'] for r in records):,}",
                "—",
                f"{sum(r['training_seconds'] for r in records):.0f} s",
                "—",
                report,
            )
        )
    return "\n".join(rows)


def row(name, parameters, epochs, training_time, validation, report):
    return (
        f"| {name} | {parameters} | {epochs} | {training_time} | {validation} "
        f"| **{100 * report['accuracy']:.2f}%** | {report['errors']} / {report['images']} "
        f"| {report['images_per_second']:,.0f} images/s |"
    )


CALIBRATION_HEADER = (
    "| model | temperature | test ECE without | test ECE with |\n| --- | ---: | ---: | ---: |"
)


def calibration_table(models_dir="models"):
    """Each evaluated model's temperature and expected calibration error, without and with."""
    rows = [CALIBRATION_HEADER]
    for path in sorted(Path(models_dir).glob("*.evaluation.json"), key=lambda p: p.name.split(".")[0]):
        report = json.loads(path.read_text())
        if "temperatures" not in report:
            continue
        name = path.name.split(".")[0]
        rows.append(
            f"| `{name}` | {', '.join(f'{t:.3f}' for t in report['temperatures'])} "
            f"| {100 * report['expected_calibration_error_without_temperature']:.2f}% "
            f"| **{100 * report['expected_calibration_error']:.2f}%** |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "models"
    print(results_table(folder))
    print()
    print(calibration_table(folder))
