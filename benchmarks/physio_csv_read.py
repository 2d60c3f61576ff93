"""How fast, and in how much memory, the wearable CSV reader reads a long file: a comma CSV, a semicolon CSV with
decimal commas, a tab-separated CSV with decimal points (as a logger writes it: its EDA's '2.004' alone could be a
thousands mark), a comma CSV whose EDA has a value every 16th row (empty cells between), a semicolon CSV with a date
column it does not read ('01.02.2024', as a clinic's export writes it), one whose pulse wave has its thousands
grouped by points ('-4.912,37'), one with a quoted cell (its last line's first cell, which sends the whole file down
the line-by-line path) and the date and thousands files with one too (where each column read is joined as its own
text a chunk of lines at a time, then told and rewritten as a whole), a million rows each by default (about 30 MB of
text), and a Polar Sensor Logger ACC file of an hour at 200 Hz (720,000 rows, 40 MB: each row led by the phone's
local time, read without and with the phone's UTC offset, +01:00), read by one or more checkouts of the project.

    python benchmarks/physio_csv_read.py --work /tmp/physio_csv [--checkout /path/to/another/worktree ...] [--only acc]

Each CSV holds `time_s,bvp,eda,temp` at 64 Hz (a pulse wave, an EDA and a skin temperature, every cell a number).
Each checkout reads each file in its own process under `/usr/bin/time -v`: the read's wall time (timed in the
process, imports left out; 'refused' where the checkout refuses the file) and the process's peak RSS in MiB, with
the peak of the imports alone beside it. The files are written under --work, never into the repository.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

RATE_HZ = 64.0
ACC_RATE_HZ = 200.0  # a Polar H10's accelerometer as Polar Sensor Logger records it
ACC_SECONDS = 3600
ACC_UTC_OFFSET_S = 3600.0  # the phone's clock, +01:00
SENSOR_EPOCH_NS = 600_000_000_000_000_000  # the sensor's own count (ns since 2000-01-01: 2019), no wall clock
READ = """
import sys, time
from runtime.arms.physio.readers.csv_file import read_csv
from runtime.errors import InputError
if sys.argv[1] != "-":
    began = time.perf_counter()
    try:
        read_csv(sys.argv[1], utc_offset_s=float(sys.argv[2]) if len(sys.argv) > 2 else None)
        print(f"{time.perf_counter() - began:.3f}")
    except InputError:
        print("refused")
"""


def write_csv(path: Path, rows: int, separator: str, decimal_comma: bool, eda_stride: int = 1,
              date_column: bool = False, bvp_scale: float = 1.0, quoted: bool = False) -> Path:
    """``rows`` rows of a 64 Hz recording, its cells separated by ``separator``, with decimal commas where
    ``decimal_comma``; the EDA in every ``eda_stride``-th row, its cell empty in the others (a 4 Hz EDA beside the
    64 Hz pulse wave); a first column of the date ('01.02.2024', as a clinic's export writes it, not read) where
    ``date_column``; the pulse wave ``bvp_scale`` times larger, its thousands grouped (by points beside decimal
    commas); the last line's first cell quoted where ``quoted``."""
    rng = np.random.default_rng(0)
    time_s = np.arange(rows) / RATE_HZ
    bvp = bvp_scale * (50.0 * np.sin(2 * np.pi * 1.2 * time_s) + rng.normal(0, 2, rows))
    eda = 2.0 + 0.5 * np.sin(2 * np.pi * time_s / 300) + rng.normal(0, 0.01, rows)
    temp = 33.0 + rng.normal(0, 0.05, rows)
    lines = [separator.join(("time_s", "bvp", "eda", "temp"))]
    grouped = "," if bvp_scale > 1 else ""
    lines += [f"{t:.4f}{separator}{b:{grouped}.2f}{separator}{e:.3f}{separator}{c:.2f}"
              if i % eda_stride == 0 else f"{t:.4f}{separator}{b:{grouped}.2f}{separator}{separator}{c:.2f}"
              for i, (t, b, e, c) in enumerate(zip(time_s, bvp, eda, temp, strict=True))]
    text = "\n".join(lines) + "\n"
    if decimal_comma:  # '1,234.5' as '1.234,5'
        text = text.translate({ord("."): ",", ord(","): "."})
    if date_column:
        text = "\n".join(f"{'Datum' if i == 0 else '01.02.2024'}{separator}{line}" if line else line
                         for i, line in enumerate(text.split("\n")))
    if quoted:
        head, _, last = text[:-1].rpartition("\n")
        time_cell, _, rest = last.partition(separator)
        text = f'{head}\n"{time_cell}"{separator}{rest}\n'
    path.write_text(text)
    return path


def write_sensor_logger_acc(path: Path, seconds: int) -> Path:
    """A Polar Sensor Logger ACC file of ``seconds`` at 200 Hz: each row led by the phone's local time (no offset)
    when its notification of 36 samples arrived, 50 ms after the last, then the sensor's ns and X, Y, Z in mg."""
    began = datetime(2024, 3, 1, 10, 0)
    stamps = {batch: (began + timedelta(seconds=(batch + 1) * 36 / ACC_RATE_HZ - 1 / ACC_RATE_HZ + 0.05)).isoformat(
        timespec="milliseconds") for batch in range(int(seconds * ACC_RATE_HZ) // 36 + 1)}
    rows = (f"{stamps[i // 36]};{SENSOR_EPOCH_NS + i * 5_000_000};{-953 + i % 7};{63 - i % 3};425\n"
            for i in range(int(seconds * ACC_RATE_HZ)))
    path.write_text("Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n" + "".join(rows))
    return path


def measure(checkout: Path, path: Path | None, utc_offset_s: float | None = None) -> tuple[float, float]:
    """(read s, NaN where refused; peak RSS MiB) of ``checkout``'s ``read_csv(path, utc_offset_s=...)`` in a fresh
    process (the imports alone: None)."""
    offset = [] if utc_offset_s is None else [str(utc_offset_s)]
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", READ, str(path) if path else "-", *offset],
                         capture_output=True, text=True, check=True, cwd=checkout, env={"PYTHONPATH": str(checkout)})
    read_s = float(run.stdout.strip().replace("refused", "nan") or "nan")
    peak_mib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1)) / 1024
    return read_s, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/physio_csv"))
    parser.add_argument("--checkout", type=Path, nargs="+", default=[Path(__file__).resolve().parents[1]],
                        help="checkouts whose reader reads the files (default: this one)")
    parser.add_argument("--only", default="", help="read (and write) only the files whose name holds this")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    files = []
    for name, separator, decimal_comma, eda_stride, date_column, bvp_scale, quoted in (
            ("comma", ",", False, 1, False, 1.0, False),
            ("semicolon_decimal_comma", ";", True, 1, False, 1.0, False),
            ("tab_decimal_points", "\t", False, 1, False, 1.0, False),
            ("comma_eda_every_16th_row", ",", False, 16, False, 1.0, False),
            ("semicolon_with_a_date_column", ";", True, 1, True, 1.0, False),
            ("semicolon_with_thousands_points", ";", True, 1, False, 100.0, False),
            ("semicolon_with_a_quoted_cell", ";", True, 1, False, 1.0, True),
            ("semicolon_with_a_date_column_and_a_quoted_cell", ";", True, 1, True, 1.0, True),
            ("semicolon_with_thousands_points_and_a_quoted_cell", ";", True, 1, False, 100.0, True)):
        path = args.work / f"{name}_{args.rows}.csv"
        if args.only not in path.name:
            continue
        files.append((path if path.exists() else write_csv(path, args.rows, separator, decimal_comma, eda_stride,
                                                           date_column, bvp_scale, quoted), None))
    acc = args.work / f"polar_sensor_logger_acc_{ACC_SECONDS}s.txt"
    if args.only in acc.name:
        acc = acc if acc.exists() else write_sensor_logger_acc(acc, ACC_SECONDS)
        files += [(acc, None), (acc, ACC_UTC_OFFSET_S)]
    print("| checkout | file | MB of text | read s | peak MiB | imports alone MiB |\n|---|---|---|---|---|---|")
    for checkout in args.checkout:
        _, imports_mib = measure(checkout, None)
        for path, utc_offset_s in files:
            read_s, peak_mib = measure(checkout, path, utc_offset_s)
            read = "refused" if math.isnan(read_s) else f"{read_s:.2f}"
            offset = "" if utc_offset_s is None else f" at UTC{utc_offset_s / 3600:+g} h"
            print(f"| {checkout} | {path.name}{offset} | {path.stat().st_size / 1e6:.1f} | {read} | {peak_mib:.0f} | "
                  f"{imports_mib:.0f} |", flush=True)


if __name__ == "__main__":
    main()
