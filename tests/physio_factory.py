"""Small physiological recordings made on the spot, for tests: an E4-style export folder, a label file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

START_UNIX_S = 1_644_227_574.0


def write_e4(
    folder: Path, duration_s: float = 120.0, rates: dict[str, float] | None = None, hr_delay_s: float = 10.0,
    starts_s: dict[str, float] | None = None,
) -> Path:
    """A small E4-style export: each file starts with its UNIX start and its rate, as the device writes (IBI.csv its
    start and beats in seconds since it); a file named in ``starts_s`` starts that many seconds after the others
    (earlier where negative)."""
    folder.mkdir(parents=True, exist_ok=True)
    rates, starts_s = rates or {}, starts_s or {}
    rng = np.random.default_rng(1)
    signals = {"EDA.csv": (4.0, 1), "TEMP.csv": (4.0, 1), "BVP.csv": (64.0, 1), "ACC.csv": (32.0, 3)}
    for name, (rate_hz, columns) in signals.items():
        n = int(duration_s * rate_hz)
        data = rng.normal(1.0, 0.1, size=(n, columns))
        header_rate = rates.get(name, rate_hz)
        start_unix_s = START_UNIX_S + starts_s.get(name, 0.0)
        lines = [", ".join([f"{start_unix_s:.6f}"] * columns), ", ".join([f"{header_rate:.6f}"] * columns)]
        lines += [",".join(f"{v:.4f}" for v in row) for row in data]
        (folder / name).write_text("\n".join(lines) + "\n")
    hr = 70 + rng.normal(0, 1, size=int(duration_s - hr_delay_s))
    (folder / "HR.csv").write_text(
        f"{START_UNIX_S + hr_delay_s:.6f}\n1.000000\n" + "\n".join(f"{v:.2f}" for v in hr) + "\n"
    )
    intervals_s = 0.85 + rng.normal(0, 0.03, size=int(duration_s / 0.85) - 1)  # drawn after the others: theirs kept
    beats_s = np.cumsum(intervals_s)
    (folder / "IBI.csv").write_text(f"{START_UNIX_S + starts_s.get('IBI.csv', 0.0):.6f}, IBI\n" + "".join(
        f"{t:.6f},{v:.6f}\n" for t, v in zip(beats_s, intervals_s, strict=True) if t < duration_s))
    (folder / "tags.csv").write_text(f"{START_UNIX_S + 30:.0f}\n{START_UNIX_S + 90:.0f}\n")
    return folder


def write_labels(data_dir: Path, rows: list[str], header: str = "Participant,HR,respr,Time(sec),Label") -> Path:
    """A Stress-Predict label file under ``data_dir`` holding ``rows`` (one line each) below ``header``."""
    from export.physio.dataset import LABELS_FILE

    path = data_dir / LABELS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def zip_e4(folder: Path, archive: Path, inside: str = "") -> Path:
    """The E4 export ``folder`` added to the zip ``archive`` (made if missing), its files under ``inside``."""
    import zipfile

    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(folder.iterdir()):
            handle.write(path, f"{inside}{path.name}")
    return archive


def write_timestamped_csv(path: Path, last_time: str | None = None, column: str = "timestamp") -> Path:
    """A CSV of 40 rows of eda at 4 Hz on a time column (UNIX seconds, or seconds from 0 for another name), and a
    last row at ``last_time`` when given."""
    first = START_UNIX_S if column == "timestamp" else 0.0
    rows = [f"{first + i * 0.25:.2f},1.0" for i in range(40)] + ([] if last_time is None else [f"{last_time},1.0"])
    path.write_text(f"{column},eda\n" + "\n".join(rows) + "\n")
    return path
