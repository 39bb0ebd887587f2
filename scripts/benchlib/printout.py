"""What ``scripts/bench.py`` prints: the summary of :mod:`benchlib.report`, then the details
(per stage, per process, components, profiles)."""

from __future__ import annotations

from typing import Any

from benchlib import report as rp

STAGES = ("capture->camera_info", "capture->faces", "faces->emotions", "emotions->annotated",
          "capture->annotated")


def print_report(report: dict[str, Any]) -> None:
    on = f"on {rp.cpu_text(report)}"    # every table of absolute figures says where
    print()
    for line in rp.headline(report):
        print(line)
    runs = report.get("runs", [])
    if runs:
        print(f"\ngraph runs ({runs[0]['seconds']:.0f} s each after warm-up; latency = "
              "capture stamp -> EmotionArray received), next to the bare loop on the same "
              f"content, {on}:")
        print(rp.format_table(rp.main_rows(report), rp.MAIN_HEADER))
    if rp.frames_rows(report):
        print("\nframes over the whole run, after the camera stopped and the graph drained "
              "(bench: stamps seen / EmotionArrays received; nodes: /diagnostics; d/r/f = "
              "dropped / rejected / failed):")
        print(rp.format_table(rp.frames_rows(report), rp.FRAMES_HEADER))
        for line in rp.frames_notes(report):
            print("  " + line)
    if report.get("recall"):
        print("\nface recall and new-face latency on the hard clip (bare loop, every frame in "
              f"order at the clip's rate), {on}:")
        print(rp.format_table(rp.recall_rows(report), rp.RECALL_HEADER))
    if report.get("identities"):
        print("\ntrack ids against the hard clip's people (bare loop; a person = one "
              "appearance of a face in the ground truth):")
        print(rp.format_table(rp.identity_rows(report), rp.IDENTITY_HEADER))
    if report.get("bare_loops"):
        print("\nbare loops (face search + emotion CNN, no ROS; stamps = frame index / rate; "
              f"x every frame = frames/s over the every-frame search's), {on}:")
        print(rp.format_table(rp.bare_rows(report), rp.BARE_HEADER))
        if fer_line := rp.fer_library_line(report):
            print(fer_line)
    if report.get("verdicts"):
        print("\ntargets measured in this run:")
        for line in rp.verdict_lines(report):
            print("  " + line)
    if runs:
        _print_run_details(runs, on)
    if report.get("components"):
        _print_components(report["components"], on)
    for p in report.get("profile") or []:
        _print_profile(p)


def _print_run_details(runs: list[dict[str, Any]], on: str) -> None:
    print(f"\nper stage, p50 / p95 ms (capture->camera_info = convert + publish the frame), "
          f"{on}")
    rows = []
    for r in runs:
        s = r["stages"]
        rows.append([r["name"]] + [f"{s[k]['p50_ms']:.1f} / {s[k]['p95_ms']:.1f}"
                                   if s[k]["n"] else "-" for k in STAGES])
    print(rp.format_table(rows, ["run", "cap->info", "cap->faces", "faces->emo",
                                 "emo->annot", "cap->annot"]))
    print(f"\nper process: CPU % (100 = one core) / max RSS MiB, {on}")
    names: list[str] = []
    for r in runs:
        names += [n for n in r["processes"] if n not in names]
    rows = []
    for r in runs:
        row = [r["name"]]
        for n in names:
            p = r["processes"].get(n)
            row.append(f"{p['cpu_percent']:.0f} / {p['max_mib']:.0f}" if p else "")
        rows.append(row)
    print(rp.format_table(rows, ["run"] + names))


def _print_components(comps: dict[str, Any], on: str) -> None:
    print("\ncomponents (this process, one call at a time; CPU ms = process CPU time per "
          f"call, all threads), {on}")
    rows = [[f"{d['detector']} ({d['clip']})", d["median_ms"], d["p95_ms"], d["cpu_ms"],
             d["faces_found"]] for d in comps["detectors"] if "error" not in d]
    if rows:
        print(rp.format_table(rows, ["detector, 640x480 frame", "median ms", "p95 ms",
                                     "CPU ms", "faces found"]))
    rows = []
    for c in comps["classifiers"]:
        if "error" in c:
            rows.append([c["model"], "-", "-", "-", "-", "-", "-", c["error"]])
        else:
            rows.append([f"{c['model']} ({c['file']})", c["num_threads"], c["batch"],
                         f"{c['per_call']['median_ms']:.2f}",
                         f"{c['per_face']['median_ms']:.2f}",
                         f"{c['per_face']['cpu_ms']:.2f}",
                         f"{c['paced_per_face']['median_ms']:.2f} at {c['paced_rate_hz']:g}/s",
                         f"{c['size_mib']:.1f} MiB"])
    print("\n(ms/face paced: one call per camera frame, idle between, as in a node)")
    print(rp.format_table(rows, ["classifier", "threads", "batch", "ms/call", "ms/face",
                                 "CPU ms/face", "ms/face paced", "file"]))
    print()
    rows = [[c["step"], f"{c['median_ms']:.2f}", f"{c['p95_ms']:.2f}", f"{c['cpu_ms']:.2f}"]
            for c in comps["conversions"]]
    print(rp.format_table(rows, ["per-frame step", "median ms", "p95 ms", "CPU ms"]))


def _print_profile(p: dict[str, Any]) -> None:
    print(f"\nprofile (py-spy, {p['name']}): top functions, % of samples")
    for name, d in p["processes"].items():
        if "error" in d:
            print(f"  {name}: py-spy failed: {d['error']}")
            continue
        print(f"  {name}: {d['samples']} samples, {d['waiting_percent'] or 0:.0f}% "
              "waiting (thread pool / wait set); the rest by where the time went:")
        for f, pct in d.get("categories", []):
            print(f"      {pct:5.1f}%  {f}")
        print("    inclusive:")
        for f, pct in d["inclusive"]:
            print(f"      {pct:5.1f}%  {f}")
        print("    self:")
        for f, pct in d["self"][:8]:
            print(f"      {pct:5.1f}%  {f}")
