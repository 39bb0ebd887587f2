"""Run a training recipe from scratch to the exported model files and cards; resumable.

    python training/recipe.py --recipe training/recipes/default.json --data /data/fer \\
        --work runs/model --out models [--photos /data/devphotos]

A recipe (JSON) names its stages in order:

    {"reframe": true,
     "stages": [{"name": "stage1", "data": "original", "train": ["--epochs", "40", ...]},
                {"name": "finetune", "data": "reframed", "init_from": "{work}/stage1/swa.keras",
                 "train": [...]}],
     "export": {"run": "finetune", "earlier_runs": ["stage1"], "args": ["--weights", "best"],
                "out": "models"}}

``reframe`` first builds ``{work}/reframed.npz`` (training/reframe.py: the faces as the node
frames them); a stage trains (training/train.py, its ``train`` options) on the ``original``
dataset or the ``reframed`` one, from ``init_from``, from the most used filters of a trained
model (``"prune": {"from": MODEL, "architecture": NAME}``, training/prune.py) or from random
weights (``{work}`` and ``{repo}`` are replaced in all of them); ``export`` writes the
run's files and cards into its ``out`` (a folder of the repository, default models/) or
``--out`` (training/export.py; with --photos the real-photo figures, with reframed data also
the original framing's figures).  Run it again after any stop: a finished step is skipped,
a stage that stopped resumes from its last epoch.  Each step's wall time goes into
``{work}/recipe_times.json``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training import export, prune, reframe, train

REFRAMED = "reframed.npz"


def stage_data(stage: dict) -> str:
    """The dataset a stage trains on: ``original`` or ``reframed`` (the default)."""
    return stage.get("data", "reframed")


def stage_finished(run: Path) -> bool:
    """A stage is finished once train.py has written its final report."""
    return (run / "report.json").is_file()


def train_stage(stage: dict, work: Path, datasets: dict, limit: int, epochs: int) -> None:
    """Run, resume or skip one training stage."""
    run = work / stage["name"]
    if stage_finished(run):
        print(f"{stage['name']}: finished earlier, skipped")
        return
    overrides = (["--limit", str(limit)] if limit else []) + (
        ["--epochs", str(epochs)] if epochs else [])
    if (run / "state.json").is_file():
        print(f"{stage['name']}: resuming", flush=True)
        train.main(["--out", str(run), "--resume", "--verbose", "2"]
                   + (["--epochs", str(epochs)] if epochs else []))
        return
    data = str(datasets[stage_data(stage)])
    args = ["--data", data, "--out", str(run), "--verbose", "2",
            *(arg.format(work=work, repo=REPO) for arg in stage.get("train", [])), *overrides]
    if stage.get("prune"):
        pruned = work / f"{stage['name']}_pruned.keras"
        architecture = stage["prune"]["architecture"]
        prune.main(["--model", stage["prune"]["from"].format(work=work, repo=REPO),
                    "--architecture", architecture, "--data", data, "--out", str(pruned)])
        args += ["--architecture", architecture, "--init-from", str(pruned)]
    elif stage.get("init_from"):
        args += ["--init-from", stage["init_from"].format(work=work, repo=REPO)]
    print(f"{stage['name']}: training " + " ".join(args), flush=True)
    train.main(args)


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", required=True, help="recipe file (JSON)")
    parser.add_argument("--data", required=True, help="FER2013 dataset (training/data.py)")
    parser.add_argument("--work", required=True, help="folder for the cache and the runs")
    parser.add_argument("--out", help="exported files go here (default: the recipe's "
                        "export 'out', a folder of the repository, else models/)")
    parser.add_argument("--photos", help="real-photo sets for the cards (evaluate.py --photos)")
    parser.add_argument("--limit", type=int, default=0, help="smoke test: N images per split")
    parser.add_argument("--epochs", type=int, default=0, help="smoke test: epochs per stage")
    args = parser.parse_args(argv)
    recipe = json.loads(Path(args.recipe).read_text())
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    times_path = work / "recipe_times.json"
    times = json.loads(times_path.read_text()) if times_path.is_file() else {}

    def timed(name, step):
        started = time.time()
        step()
        times[name] = round(times.get(name, 0.0) + time.time() - started, 1)
        times_path.write_text(json.dumps(times, indent=2))

    datasets = {"original": Path(args.data), "reframed": work / REFRAMED}
    if recipe.get("reframe"):
        timed("reframe", lambda: reframe.main(["--data", args.data,
                                               "--out", str(work / REFRAMED)]))
    for stage in recipe["stages"]:
        timed(stage["name"], lambda stage=stage: train_stage(stage, work, datasets,
                                                             args.limit, args.epochs))
    spec = recipe["export"]
    final = next(s for s in recipe["stages"] if s["name"] == spec["run"])
    out = args.out or str(REPO / spec.get("out", "models"))
    export_args = ["--run", str(work / spec["run"]), "--out", out,
                   "--data", str(datasets[stage_data(final)]),
                   *spec.get("args", [])]
    if spec.get("earlier_runs"):
        export_args += ["--earlier-runs", *(str(work / r) for r in spec["earlier_runs"])]
    if stage_data(final) == "reframed":
        export_args += ["--also", f"fer2013_original_framing={args.data}"]
    if args.photos:
        export_args += ["--photos", args.photos]
    timed("export", lambda: export.main(export_args))
    print(f"recipe done; wall time per step (s): {json.dumps(times)}; "
          f"total {sum(times.values()) / 3600:.2f} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
