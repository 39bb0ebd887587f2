"""The soak's windows and pass criteria (``scripts/soak.py`` is the command line).

After the warm-up the run is cut into windows; per window the delivered frames/s, latency
and every process's median RSS.  Criteria: RSS growth per graph process (median of the last
window vs the first), p95 drift (median p95 of the last third of the windows vs the first
third, plus a slack), the delivered rate, results in every window, no process exited.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchlib.environment import log
from benchlib.graph import GraphRun
from benchlib.metrics import StageTimes, latency_summary, p95_drift, rss_growth, window_edges
from benchlib.report import format_table

MIB = 2**20


def default_warmup(seconds: float) -> float:
    return min(30.0, max(10.0, 0.1 * seconds), 0.5 * seconds)


def default_window(measured_s: float) -> float:
    return 60.0 if measured_s >= 360.0 else max(1.0, measured_s / 6.0)


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def evaluate(run: GraphRun, wall0: float, mono0: float, start_s: float, end_s: float,
             window_s: float, args: Any) -> dict[str, Any]:
    """Windows, RSS growth, drift and the verdict.  Times relative to the first result:
    wall clock = wall0 + t, monotonic = mono0 + t."""
    st = run.measurer.stages
    S = StageTimes.STAMP
    graph_procs = [n for n in run.sampler.names if n != "bench"]
    windows = []
    for a, b in window_edges(start_s, end_s, window_s):
        t0, t1 = int((wall0 + a) * 1e9), int((wall0 + b) * 1e9)
        lat = latency_summary(st.stage_latencies(S, "emotions", t0, t1))
        cam = st.count(t0, t1)
        w = {"t0_s": a, "t1_s": b, "fps": lat["n"] / (b - a), "camera_fps": cam / (b - a),
             "dropped": st.missing(None, "emotions", t0, t1),
             "p50_ms": lat["p50_ms"], "p95_ms": lat["p95_ms"], "p99_ms": lat["p99_ms"],
             "rss_mib": {}}
        for name in run.sampler.names:
            vals = [r for t, r in run.sampler.rss_series(name)
                    if mono0 + a <= t < mono0 + b]
            w["rss_mib"][name] = _median(vals) / MIB if vals else float("nan")
        windows.append(w)

    rss = {}
    for name in run.sampler.names:
        g = rss_growth(run.sampler.rss_series(name), mono0 + start_s, mono0 + end_s,
                               window_s)
        rss[name] = {"baseline_mib": g["baseline"] / MIB, "final_mib": g["final"] / MIB,
                     "growth_percent": 100 * g["growth"],
                     "trend_mib_per_min": 60 * g["slope_per_s"] / MIB,
                     "max_mib": run.sampler.rss_stats(name)["max_mib"],
                     "cpu_percent": run.sampler.cpu_percent(name, mono0 + start_s,
                                                            mono0 + end_s)}
    drift = p95_drift([w["p95_ms"] for w in windows], slack=args.p95_slack_ms)
    t0, t1 = int((wall0 + start_s) * 1e9), int((wall0 + end_s) * 1e9)
    overall = latency_summary(st.stage_latencies(S, "emotions", t0, t1))
    delivered = overall["n"] / (end_s - start_s)

    checks = []
    for name in graph_procs:
        g = rss[name]["growth_percent"]
        checks.append({"what": f"{name}: RSS growth < {100 * args.max_rss_growth:g} %",
                       "value": g, "ok": g == g and g < 100 * args.max_rss_growth})
    d = drift["drift_vs_slack"]
    checks.append({"what": f"p95 latency drift <= {100 * args.max_p95_drift:g} % "
                           f"(late {drift['late']:.1f} ms vs early {drift['reference']:.1f} ms "
                           f"+ {args.p95_slack_ms:g} ms slack)",
                   "value": 100 * d, "ok": d == d and d <= args.max_p95_drift})
    checks.append({"what": f"delivered >= {100 * args.min_delivery:g} % of {args.fps:g} fps",
                   "value": delivered,
                   "ok": delivered >= args.min_delivery * args.fps})
    empty = [i for i, w in enumerate(windows) if not w["fps"]]
    checks.append({"what": "every window has results", "value": float(len(empty)),
                   "ok": not empty})
    dead = [n for n in graph_procs if not run.sampler.alive(n)]
    checks.append({"what": "no process exited", "value": float(len(dead)), "ok": not dead,
                   "detail": dead})
    return {"windows": windows, "rss": rss, "p95_drift": drift, "latency": overall,
            "delivered_fps": delivered, "checks": checks,
            "passed": all(c["ok"] for c in checks)}


def print_report(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(f"\nmachine: {m['cpu_model']}, {m.get('physical_cores')} cores / "
          f"{m['logical_cpus']} logical CPUs, {m.get('memory_gib')} GiB; load average at "
          f"start {m.get('load_average')}, at end {res.get('load_average_end')}")
    print(f"soak: fer_ros {res.get('commit')}, {res['mode']}, {res['source']} at "
          f"{res['fps']:g} fps, {res['seconds']:g} s "
          f"({res['warmup']:g} s warm-up excluded, {res['window']:.3g} s windows), model "
          f"{res['model']}")
    names = list(res["rss"])
    rows = []
    for w in res["windows"]:
        rows.append([f"{w['t0_s']:.0f}-{w['t1_s']:.0f}", w["camera_fps"], w["fps"],
                     w["dropped"], w["p50_ms"], w["p95_ms"], w["p99_ms"]]
                    + [w["rss_mib"].get(n, float("nan")) for n in names])
    print("\nper window (s from the first result): frames/s, latency ms, median RSS MiB")
    print(format_table(rows, ["window s", "cam fps", "out fps", "dropped", "p50",
                                      "p95", "p99"] + [f"{n} RSS" for n in names]))
    rows = [[n, r["baseline_mib"], r["final_mib"], f"{r['growth_percent']:+.2f}",
             f"{r['trend_mib_per_min']:+.2f}", r["max_mib"], r["cpu_percent"]]
            for n, r in res["rss"].items()]
    print()
    print(format_table(rows, ["process", "RSS first MiB", "RSS last MiB", "growth %",
                                      "trend MiB/min", "max MiB", "CPU %"]))
    d = res["p95_drift"]
    L = res["latency"]
    print(f"\nlatency over the measured span: p50 {L['p50_ms']:.1f} / p95 {L['p95_ms']:.1f} / "
          f"p99 {L['p99_ms']:.1f} ms ({L['n']} frames, {res['delivered_fps']:.1f} fps); "
          f"p95 drift {100 * d['drift']:+.1f} % (vs reference + slack "
          f"{100 * d['drift_vs_slack']:+.1f} %), largest single-window deviation "
          f"{100 * d['spread']:.0f} %")
    print()
    for c in res["checks"]:
        print(f"  {'PASS' if c['ok'] else 'FAIL'}  {c['what']}  (measured {c['value']:.2f})")
    print(f"\nsoak {'PASSED' if res['passed'] else 'FAILED'}")


def watch(run: GraphRun, warmup: float, seconds: float, window: float
          ) -> tuple[float, float, str | None]:
    """Follow a started run window by window, logging each; stop early when a process exits.
    Returns (wall clock, monotonic clock) of the first result and the error, if any."""
    wall0, mono0 = time.time(), time.monotonic()
    for a, b in window_edges(warmup, seconds, window):
        while time.monotonic() < mono0 + b:
            time.sleep(min(0.5, max(0.0, mono0 + b - time.monotonic())))
            try:
                run.check_alive()
            except RuntimeError as exc:
                return wall0, mono0, str(exc)
        t0, t1 = int((wall0 + a) * 1e9), int((wall0 + b) * 1e9)
        lat = latency_summary(run.measurer.stages.stage_latencies(StageTimes.STAMP, "emotions",
                                                                  t0, t1))
        rss = " ".join(f"{n}={s.rss / MIB:.0f}" for n, s in run.sampler.sample().items())
        log(f"  {a:5.0f}-{b:4.0f} s: {lat['n'] / (b - a):5.1f} fps, p95 "
            f"{lat['p95_ms']:6.1f} ms, RSS MiB {rss}")
    return wall0, mono0, None
