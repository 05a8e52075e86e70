"""The README's results table, made from the JSON files that train.py and evaluate.py wrote.

    python -m digits.report [MODELS_DIR]

Prints one Markdown row per model that has both a training record (<name>.json) and an
evaluation report (<name>.evaluation.json), so the numbers in README.md are never typed
by hand.
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
    for evaluation_path in sorted(Path(models_dir).glob("*.evaluation.json")):
        record_path = evaluation_path.with_name(evaluation_path.name.replace(".evaluation", ""))
        if not record_path.is_file():
            continue
        record = json.loads(record_path.read_text())
        report = json.loads(evaluation_path.read_text())
        rows.append(
            f"| `{record_path.stem}` | {record['parameters']:,} | {record['config']['epochs']} "
            f"| {record['training_seconds']:.0f} s | {100 * record['best_val_accuracy']:.2f}% "
            f"| **{100 * report['accuracy']:.2f}%** | {report['errors']} / {report['images']} "
            f"| {report['images_per_second']:,.0f} images/s |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(results_table(sys.argv[1] if len(sys.argv) > 1 else "models"))
