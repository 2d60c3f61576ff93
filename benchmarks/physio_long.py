"""How `physio classify` scales with the recording's length: long E4 exports made by repeating a real one.

    python benchmarks/physio_long.py ../shared/data/physio/stress_predict/raw/S02.zip --work /tmp/physio_long

Each export repeats the subject's signal files (each cut to the span all files share, the HR file keeping its
10 s delay), its beats and its tags, back to back, in the E4's own format (start line, rate line, samples). For
each length it runs `emotrace physio classify` under `/usr/bin/time -v` and prints the wall time and peak RSS.
The exports are written under --work, never into the repository.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

SIGNALS = ("ACC.csv", "BVP.csv", "EDA.csv", "TEMP.csv", "HR.csv")


def _header_and_data(text: str) -> tuple[list[str], np.ndarray, float, float]:
    lines = text.splitlines()
    start_unix_s = float(lines[0].split(",")[0])
    rate_hz = float(lines[1].split(",")[0])
    data = np.loadtxt(io.StringIO("\n".join(lines[2:])), delimiter=",", ndmin=2)
    return lines[:2], data, start_unix_s, rate_hz


def write_long_e4(source: Path, out: Path, hours: float) -> Path:
    """An E4 export zip of ``hours`` made by repeating ``source``'s signals, beats and tags back to back."""
    with zipfile.ZipFile(source) as archive:
        texts = {Path(n).name: archive.read(n).decode() for n in archive.namelist() if Path(n).name.endswith(".csv")}
    parsed = {name: _header_and_data(texts[name]) for name in SIGNALS if name in texts}
    origin_unix_s = min(p[2] for p in parsed.values())
    # One repetition: the span every file covers (whole seconds), so that the files stay aligned when repeated.
    period_s = float(np.floor(min(p[2] - origin_unix_s + p[1].shape[0] / p[3] for p in parsed.values())))
    total_s = hours * 3600.0
    repeats = int(np.ceil(total_s / period_s))
    members: dict[str, str] = {}
    for name, (header, data, start_unix_s, rate_hz) in parsed.items():
        offset_s = start_unix_s - origin_unix_s
        per_repeat = int(round((period_s - offset_s) * rate_hz))
        lead = int(round(offset_s * rate_hz))  # HR: samples standing in for its first 10 s in later repetitions
        one = data[:per_repeat]
        block = np.vstack([one, one[:lead]]) if lead else one
        n_total = int(round((total_s - offset_s) * rate_hz))
        tiled = np.resize(np.vstack([one, np.tile(block, (repeats, 1))]), (n_total, data.shape[1]))
        fmt = ",".join(["%d"] * data.shape[1]) if name == "ACC.csv" else "%.6g"
        body = io.StringIO()
        np.savetxt(body, tiled, fmt=fmt)
        members[name] = "\n".join(header) + "\n" + body.getvalue()
    if "IBI.csv" in texts:
        lines = texts["IBI.csv"].splitlines()
        beats = np.loadtxt(io.StringIO("\n".join(lines[1:])), delimiter=",", ndmin=2)
        beats = beats[beats[:, 0] < period_s]
        rows = [beats + [k * period_s, 0.0] for k in range(repeats)]
        all_beats = np.vstack(rows)
        all_beats = all_beats[all_beats[:, 0] < total_s]
        body = io.StringIO()
        np.savetxt(body, all_beats, fmt="%.6f", delimiter=",")
        members["IBI.csv"] = lines[0] + "\n" + body.getvalue()
    if "tags.csv" in texts:
        tags = np.array([float(t) for t in texts["tags.csv"].split()]) - origin_unix_s
        tags = tags[tags < period_s]
        all_tags = np.concatenate([tags + k * period_s for k in range(repeats)])
        members["tags.csv"] = "".join(f"{origin_unix_s + t:.0f}\n" for t in all_tags[all_tags < total_s])
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{source.stem}_{hours:g}h.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def measure(path: Path, csv_out: Path) -> tuple[float, float]:
    """(wall s, peak RSS MB) of `emotrace physio classify path --csv csv_out`."""
    run = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "runtime.cli", "physio", "classify", str(path), "--csv",
         str(csv_out)],
        capture_output=True, text=True, check=True,
    )
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    wall_s = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    peak_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1)) / 1024
    return wall_s, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="an E4 export zip (e.g. raw/S02.zip)")
    parser.add_argument("--hours", type=float, nargs="+", default=[4.0, 12.0, 24.0, 48.0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/physio_long"))
    parser.add_argument("--make-only", action="store_true", help="write the exports, measure nothing")
    args = parser.parse_args()
    print("| hours | windows | wall s | peak MB |\n|---|---|---|---|")
    for hours in args.hours:
        path = args.work / f"{args.source.stem}_{hours:g}h.zip"
        if not path.exists():
            path = write_long_e4(args.source, args.work, hours)
        if args.make_only:
            print(path)
            continue
        csv_out = args.work / f"{path.stem}.csv"
        wall_s, peak_mb = measure(path, csv_out)
        windows = sum(1 for _ in csv_out.open()) - 1
        print(f"| {hours:g} | {windows} | {wall_s:.1f} | {peak_mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
