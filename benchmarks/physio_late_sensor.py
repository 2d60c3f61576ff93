"""How much the stress of a window moves when a sensor starts before the others, its data unchanged.

    python benchmarks/physio_late_sensor.py ../shared/data/physio/stress_predict [--subject S02] [--minutes 15]
        [--cache runs/physio-cache]

A subject's E4 export is cut to its first minutes, then given again with 30 s of accelerometer rows before the
others' start (its start line moved back; the rows are its first 30 s again). The second recording's first
windows hold the accelerometer alone (quality 0) or part of the signal; every later window reads the same samples
as the first recording's window at the same time. Both are judged by the shipped model against their whole
session, and the script prints how many of those same-data windows change their side of one half and by how much.
With ``--cache`` (the feature cache of ``emotrace train physio --cache``) it also counts the training windows of
quality 0. Nothing is chosen by this script; under a minute.
"""

from __future__ import annotations

import argparse
import glob
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.physio.features import recording_features  # noqa: E402
from runtime.arms.physio.readers import read_recording  # noqa: E402
from runtime.arms.physio.readers.e4 import HR_DELAY_S  # noqa: E402
from runtime.arms.physio.stress import called_stress, classify_session, load_physio_model  # noqa: E402
from runtime.errors import InputError  # noqa: E402

SIGNAL_FILES = ("ACC.csv", "BVP.csv", "EDA.csv", "HR.csv", "TEMP.csv")
EARLY_S = 30.0


def cut_export(zip_path: Path, minutes: float, folder: Path, acc_early_s: float = 0.0) -> Path:
    """The export's signal files and IBI.csv cut to ``minutes`` into ``folder``; with ``acc_early_s``, ACC.csv
    starts that much before the others, its first rows given again for the stretch."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        texts = {Path(name).name: archive.read(name).decode() for name in archive.namelist()
                 if Path(name).name in (*SIGNAL_FILES, "IBI.csv")}
    for name in SIGNAL_FILES:
        lines = texts[name].splitlines()
        rate_hz = float(lines[1].split(",")[0])
        length_s = minutes * 60 - (HR_DELAY_S if name == "HR.csv" else 0.0)  # HR starts 10 s after the others
        rows = lines[2:2 + int(length_s * rate_hz)]
        if name == "ACC.csv" and acc_early_s:
            start_s = float(lines[0].split(",")[0]) - acc_early_s
            lines[0] = ", ".join([f"{start_s:.6f}"] * 3)
            rows = rows[:int(acc_early_s * rate_hz)] + rows
        (folder / name).write_text("\n".join(lines[:2] + rows) + "\n")
    ibi = texts["IBI.csv"].splitlines()
    kept = [line for line in ibi[1:] if float(line.split(",")[0]) < minutes * 60]
    (folder / "IBI.csv").write_text("\n".join([ibi[0], *kept]) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder (raw/S02.zip ...)")
    parser.add_argument("--subject", default="S02")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--cache", type=Path, help="a feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    zip_path = args.data / "raw" / f"{args.subject}.zip"
    if not zip_path.is_file():
        raise SystemExit(f"{zip_path}: no such export")
    model = load_physio_model()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            judged = {}
            for name, early_s in (("together", 0.0), ("accelerometer first", EARLY_S)):
                recording = read_recording(cut_export(zip_path, args.minutes, Path(tmp) / name, early_s))
                windows = recording_features(recording, 30.0, 5.0)
                judged[name] = (windows, classify_session(windows, model))
    except InputError as error:
        raise SystemExit(str(error)) from None
    windows, first = judged["together"]
    early_windows, early = judged["accelerometer first"]
    lead = int(round(EARLY_S / 5.0))  # the windows before the others' start, at a 5 s hop
    same = [(a.stress, b.stress) for a, b in zip(first, early[lead:], strict=False)
            if a.stress is not None and b.stress is not None]
    before, after = np.array(same).T
    print(f"{args.subject}, first {args.minutes:g} min: the accelerometer {EARLY_S:g} s before the others gives "
          f"{lead} leading windows of quality {', '.join(f'{w.quality:.2f}' for w in early_windows[:lead])}")
    print(f"windows of the same data: {before.size}; their side of one half changed in "
          f"{int((called_stress(before) != called_stress(after)).sum())}, their stress by a median "
          f"{float(np.median(np.abs(before - after))):.2f} (largest {float(np.abs(before - after).max()):.2f})")
    if args.cache is not None:
        quality = [np.load(path)["quality"] for path in sorted(glob.glob(str(args.cache / "*.npz")))]
        if quality:
            every = np.concatenate(quality)
            print(f"{args.cache}: {every.size} cached training windows in {len(quality)} files, "
                  f"{int((every <= 0).sum())} of quality 0")


if __name__ == "__main__":
    main()
