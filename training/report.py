"""Figures and metrics of a trained emotion CNN: curves, confusion matrix, per-class scores."""

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

CONFUSION_FIGURE = "confusion_matrix.png"


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts[true class, predicted class]."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def classification_metrics(matrix: np.ndarray, class_names) -> dict:
    """Accuracy and per-class precision/recall/F1/support from a confusion matrix."""
    true_positives = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = np.divide(true_positives, predicted, out=np.zeros_like(true_positives),
                          where=predicted > 0)
    recall = np.divide(true_positives, support, out=np.zeros_like(true_positives),
                       where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall,
                   out=np.zeros_like(true_positives), where=(precision + recall) > 0)
    total = matrix.sum()
    return {
        "accuracy": float(true_positives.sum() / total) if total else 0.0,
        "num_images": int(total),
        "class_names": list(class_names),
        "per_class": {
            name: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                   "f1": round(float(f1[i]), 4), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": matrix.tolist(),
    }


def format_metrics(metrics: dict) -> str:
    """A plain-text table of the per-class scores and the confusion matrix."""
    names = metrics["class_names"]
    lines = [f"accuracy {metrics['accuracy']:.4f} on {metrics['num_images']} images", "",
             f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name in names:
        row = metrics["per_class"][name]
        lines.append(f"{name:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}"
                     f"{row['f1']:>10.3f}{row['support']:>10d}")
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              " " * 10 + "".join(f"{name[:8]:>9}" for name in names)]
    for name, row in zip(names, metrics["confusion_matrix"]):
        lines.append(f"{name:<10}" + "".join(f"{count:>9d}" for count in row))
    return "\n".join(lines)


def read_history(history_csv: Path) -> list:
    """Rows of a run's history.csv as dicts of strings."""
    with open(history_csv, newline="") as handle:
        return list(csv.DictReader(handle))


def combine_histories(history_csvs) -> list:
    """Join the histories of consecutive training stages (each --init-from the one before).

    Every row gets `epoch` (counted over all stages), `stage` (1-based) and `stage_epoch`.
    """
    rows = []
    for stage, path in enumerate(history_csvs, start=1):
        for row in read_history(path):
            rows.append({"epoch": str(len(rows) + 1), "stage": str(stage),
                         "stage_epoch": row["epoch"],
                         **{key: value for key, value in row.items() if key != "epoch"}})
    return rows


def write_history(rows: list, path: Path) -> None:
    """Write rows (as from combine_histories) to a CSV file."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot_history(rows: list, out_dir: Path) -> None:
    """accuracy.png and loss.png: train vs validation per epoch, stages marked when several."""
    epochs = [int(row["epoch"]) for row in rows]
    stage_starts = [int(row["epoch"]) for previous, row in zip(rows, rows[1:])
                    if row.get("stage") != previous.get("stage")]
    for metric, title in (("accuracy", "Accuracy"), ("loss", "Loss")):
        figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
        axes.plot(epochs, [float(row[metric]) for row in rows], label="train")
        axes.plot(epochs, [float(row["val_" + metric]) for row in rows], label="validation")
        for start in stage_starts:
            axes.axvline(start - 0.5, color="grey", linestyle=":", linewidth=1)
        axes.set_xlabel("epoch" + (" (dotted lines: a new stage starts)" if stage_starts else ""))
        axes.set_ylabel(metric)
        axes.set_title(f"{title} per epoch")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(out_dir / f"{metric}.png")
        plt.close(figure)


def plot_confusion_matrix(matrix: np.ndarray, class_names, path: Path) -> None:
    """Row-normalised confusion matrix with class names on both axes."""
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(6.5, 5.5), dpi=100)
    image = axes.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (normalised by true class)")
    for i in ticks:
        for j in ticks:
            value = normalised[i, j]
            axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                      color="white" if value > 0.5 else "black")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_reports(out_dir: Path, model, split) -> dict:
    """Evaluate `model` on `split` and write the plots, report.json and report.txt."""
    out_dir = Path(out_dir)
    probabilities = model.predict(split.images[..., None].astype(np.float32), batch_size=256,
                                  verbose=0)
    matrix = confusion_matrix(split.labels, probabilities.argmax(axis=1), len(split.class_names))
    metrics = classification_metrics(matrix, split.class_names)
    if (out_dir / "history.csv").exists():
        plot_history(read_history(out_dir / "history.csv"), out_dir)
    plot_confusion_matrix(matrix, split.class_names, out_dir / CONFUSION_FIGURE)
    (out_dir / "report.json").write_text(json.dumps(metrics, indent=2))
    (out_dir / "report.txt").write_text(format_metrics(metrics) + "\n")
    print(format_metrics(metrics))
    return metrics
