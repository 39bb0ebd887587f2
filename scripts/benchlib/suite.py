"""One bench invocation: per clip the bare loops, then the graph runs; recall on the hard
clip; optional components and profiles.  Returns the report dict (:mod:`benchlib.report`)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import bareloop, hard_clip, inputs, recall
from benchlib import report as rp
from benchlib.environment import REPO, REPORT_COMMIT, load_average, log, machine_info
from benchlib.graph import MAX_RATE, MODES, RunSpec, run_graph
from benchlib.metrics import identity_summary
from training.provenance import git_commit

EVERY_FRAME = {"search_interval_ms": 0.0}     # the recall reference: search on every frame


@dataclass
class Options:
    """What bench.py's command line chose (its defaults live there)."""

    clips: list[str]
    graphs: list[tuple[str, float | None]]
    seconds: float
    warmup: float
    model: Path | None
    params_file: Path | None
    detector: str | None
    launcher: str
    annotated: str
    graph: bool
    components: bool
    component_seconds: float
    model_dir: Path | None
    profile: bool
    profile_gil: bool
    versus_fer: bool
    log_dir: Path
    argv: list[str]


def parse_graph(text: str) -> tuple[str, float | None]:
    """``MODE@RATE`` (``processes@30``, ``pipeline@max``) -> (mode, fps or None)."""
    mode, _, rate = text.partition("@")
    if mode not in MODES or not rate:
        raise ValueError(f"{text!r}: expected MODE@RATE with MODE one of {', '.join(MODES)} "
                         "and RATE frames/s or 'max'")
    if rate == "max":
        return mode, None
    fps = float(rate)
    if not 0 < fps <= MAX_RATE:
        raise ValueError(f"{text!r}: rate out of range (0, {MAX_RATE:g}]")
    return mode, fps


def _interval_text(values: dict[str, Any]) -> str:
    """The search schedule ``values`` give the face search (the node's default if unset)."""
    from fer_ros.nodes.face_detector_node import PARAMS

    v = {**{p.name: p.default for p in PARAMS}, **values}
    if v["search_interval_ms"] == 0:
        return "search_interval_ms 0"
    return (f"beside, max_search_share {v['max_search_share']:g}, search_interval_ms "
            f"{v['search_interval_ms']:g} when still")


def _bare(clip, loop_for, rate, schedule, full, opts, truth=None, cuts=(), tracked=True
          ) -> dict[str, Any]:
    """``loop_for(max_seconds)``: one bare loop over ``clip`` (``bareloop.run`` or the PyPI
    fer baseline); ``tracked``: it gives track ids (the identity figures need them)."""
    log(f"bare loop: {clip.label}, stamps at {rate:g} fps, {schedule} schedule ...")
    loop = loop_for(None if full else opts.seconds)
    out = {"clip": clip.key, "clip_label": clip.label, "clip_fps": clip.fps,
           "stamp_rate": rate, "schedule": schedule,
           "summary": loop.summary()}
    if truth is not None:
        counted = [sum(1 for f in fr if f.visible >= recall.COUNTED_VISIBLE) for fr in truth]
        out["one_to_three_faces"] = loop.summary([i for i, n in enumerate(counted)
                                                  if 1 <= n <= 3])
        if full:
            out["recall"] = recall.evaluate(truth, loop.boxes, clip.fps)
            if tracked:
                out["identities"] = identity_summary(truth, loop.boxes, loop.ids, cuts)
    s = out["summary"]
    log(f"  {s['frames_per_s']:.1f} frames/s, p95 {s['p95_ms']:.1f} ms per frame, "
        f"{s['faces_per_frame']:.2f} faces/frame")
    return out


def _search_loop(clip, values, classifier, rate, classify_interval_s):
    return lambda max_seconds: bareloop.run(clip.path, values, classifier, rate, max_seconds,
                                            classify_interval_s)


def _versus_fer(clip, default: dict[str, Any], truth, opts: Options,
                report: dict[str, Any]) -> None:
    """The PyPI fer library's loop over the frames ``default`` (fer_ros's loop at the clip's
    own rate) covered (``benchlib.fer_library``; with recall where the clip has ground
    truth), or a printed line why it cannot run."""
    from benchlib import fer_library

    reason = fer_library.missing()
    if reason:
        log(f"--versus-fer skipped: {reason}")
        report["fer_library"] = {"skipped": reason}
        return
    frames = default["summary"]["frames"] + bareloop.WARMUP_FRAMES
    loop = _bare(clip, lambda _: fer_library.run(clip.path, clip.fps, max_frames=frames),
                 clip.fps, fer_library.SCHEDULE, truth is not None, opts, truth, tracked=False)
    report["bare_loops"].append(loop)
    if "recall" in loop:
        report["recall"]["fer_library"] = {**loop["recall"],
                                           "search_interval": "Haar, every frame"}
    report["fer_library"] = {"version": fer_library.version()}


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def run_bench(opts: Options) -> tuple[dict[str, Any], int]:
    """(report, number of runs that failed)."""
    from fer_ros.emotion_classifier import load_classifier

    params_file = opts.params_file or inputs.default_params_file()
    model = opts.model or inputs.default_model()
    det_values = inputs.node_values(params_file, "face_detector")
    if opts.detector:
        det_values["detector"] = opts.detector
    emo_values = inputs.node_values(params_file, "emotion")
    classifier = load_classifier(model, num_threads=int(emo_values.get("num_threads", 2)))
    classify_interval_ms = float(emo_values.get("classify_interval_ms", 0.0))
    classify_interval_s = classify_interval_ms / 1000.0
    report: dict[str, Any] = {
        "commit": git_commit(REPO, **REPORT_COMMIT), "date_utc": time.strftime("%Y-%m-%d %H:%M UTC",
                                                               time.gmtime()),
        "machine": machine_info(), "argv": opts.argv,
        "ros_domain_id": os.environ.get("ROS_DOMAIN_ID"), "model": _shown(model),
        "params_file": _shown(params_file) if params_file else "none (node defaults)",
        "face_detector": det_values, "classify_interval_ms": classify_interval_ms,
        "bare_loops": [], "runs": [], "errors": []}
    clips = [inputs.resolve_clip(c) for c in opts.clips]
    log_root = Path(opts.log_dir) / time.strftime("%Y%m%d-%H%M%S")
    failures, k = 0, 0
    for clip in clips:
        truth = hard_clip.load_truth(clip.truth)[1] if clip.truth else None
        cuts = hard_clip.scene_cuts(clip.truth) if clip.truth else ()
        bare: dict[float, dict[str, Any]] = {}
        rates = sorted({rate or clip.fps for _, rate in opts.graphs} |
                       ({clip.fps} if truth or opts.versus_fer else set()))
        for rate in rates:
            full = truth is not None and rate == clip.fps
            bare[rate] = _bare(clip, _search_loop(clip, det_values, classifier, rate,
                                                  classify_interval_s),
                               rate, "default", full, opts, truth, cuts)
            report["bare_loops"].append(bare[rate])
        if truth is not None:
            ref = _bare(clip, _search_loop(clip, {**det_values, **EVERY_FRAME}, classifier,
                                           clip.fps, classify_interval_s),
                        clip.fps, "every frame", True, opts, truth, cuts)
            report["bare_loops"].append(ref)
            report["recall"] = {
                "default": {**bare[clip.fps]["recall"],
                            "search_interval": _interval_text(det_values)},
                "every_frame": {**ref["recall"],
                                "search_interval": _interval_text(EVERY_FRAME)}}
            report["identities"] = {"default": bare[clip.fps]["identities"],
                                    "every_frame": ref["identities"]}
        if opts.versus_fer:
            _versus_fer(clip, bare[clip.fps], truth, opts, report)
        if not opts.graph:
            continue
        for mode, rate in opts.graphs:
            k += 1
            spec = RunSpec(mode=mode, clip=clip, rate=rate, model=model,
                           params_file=params_file, detector=opts.detector,
                           seconds=opts.seconds, warmup=opts.warmup,
                           namespace=f"/fer_bench_{os.getpid()}_{k}", launcher=opts.launcher,
                           annotated=opts.annotated)
            log(f"[graph {k}/{len(clips) * len(opts.graphs)}] {spec.name}: "
                f"{opts.warmup:g} s warm-up + {opts.seconds:g} s ...")
            try:
                r = run_graph(spec, log_root / f"run{k}_{mode}_{clip.key}")
            except Exception as exc:  # noqa: BLE001 - report it, go on with the next run
                failures += 1
                log(f"  FAILED: {exc}")
                report["errors"].append({"run": spec.name, "error": str(exc)})
                continue
            b = bare[rate or clip.fps]
            r["bare"] = {key: b["summary"][key] for key in ("frames_per_s", "mean_ms", "p95_ms")}
            r["bare"]["stamp_rate"] = b["stamp_rate"]
            report["runs"].append(r)
            log(f"  {r['fps']:.1f} results/s of {r['camera_fps']:.1f} published "
                f"({r['answered_percent']:.1f} % answered), p95 {r['latency']['p95_ms']:.1f} ms")
            acc = r["frame_account"]
            log(f"  whole run: {acc['bench']['published']} published, "
                f"{acc['bench']['answered']} answered, {acc['bench']['dropped']} dropped "
                f"(bench); the nodes agree: "
                f"{ {True: 'yes', False: 'no', None: 'cannot tell'}[acc['agree']] }")
            if r["camera_info_missed_by_bench"] > 0.01 * max(1, r["frames_with_result"]):
                log(f"  note: the measuring node missed camera_info of "
                    f"{r['camera_info_missed_by_bench']} frames that have a result (this "
                    "process was starved of CPU: the published count is a low bound)")
    if opts.profile:
        failures += _profile(opts, clips[-1], model, params_file, log_root, report)
    if opts.components:
        from benchlib.components import bench_components, find_models

        log("components ...")
        report["components"] = bench_components(clips, find_models(opts.model_dir),
                                                opts.component_seconds)
    report["load_average_end"] = load_average()
    report["verdicts"] = rp.verdicts(report)
    return report, failures


def _profile(opts: Options, clip, model, params_file, log_root, report) -> int:
    from benchlib.profiling import find_py_spy, profile_graph

    py_spy = find_py_spy()
    if py_spy is None:
        log("--profile: py-spy not found (pip install py-spy, or PY_SPY=/path/to/py-spy)")
        return 0
    report["profile"], failures = [], 0
    for mode, rate in opts.graphs:
        spec = RunSpec(mode=mode, clip=clip, rate=rate, model=model, params_file=params_file,
                       detector=opts.detector, seconds=opts.seconds, warmup=opts.warmup,
                       namespace=f"/fer_bench_{os.getpid()}_profile_{mode}",
                       launcher=opts.launcher, annotated=opts.annotated)
        log(f"profiling {spec.name} with py-spy for {opts.seconds:g} s ...")
        try:
            report["profile"].append(profile_graph(spec, log_root / f"profile_{mode}", py_spy,
                                                   gil=opts.profile_gil))
        except Exception as exc:  # noqa: BLE001 - report it, go on
            failures += 1
            log(f"  profile FAILED: {exc}")
    return failures
