"""A column named with its unit in brackets is read in that unit: each reads exactly as the plain generic column of the
same unit does ('acc_x [mg]' as acc_x_mg, not as g; 'Time [ms]' as time_ms, not as seconds; 'IBI [s]' as ibi_s, not
as ms; 'Temp (°C)' as temp), and micro written with the Greek letter mu ('EDA [μS]', U+03BC) as with the micro sign
(U+00B5)."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.arms.physio.readers.csv_file import read_csv
from tests.physio_factory import START_UNIX_S


def _body(rows: int, value) -> str:
    return "".join(f"{START_UNIX_S + i / 32:.5f},{value(i)}\n" for i in range(rows))


@pytest.mark.parametrize(("named", "plain", "value"), [
    ("acc_x [mg],acc_y [mg],acc_z [mg]", "acc_x_mg,acc_y_mg,acc_z_mg", lambda i: f"{i % 9},{-i % 5},1000"),
    ("ACC X [m/s^2],ACC Y [m/s^2],ACC Z [m/s^2]", "acc_x_ms2,acc_y_ms2,acc_z_ms2", lambda i: f"0.{i % 9},0,9.81"),
    ("EDA [\u03bcS]", "eda", lambda i: f"{2 + i / 1000:.4f}"),  # the Greek mu
    ("Temp (°C)", "temp", lambda i: f"{33 + i / 640:.4f}"),  # not only 'Skin Temp'
])
def test_a_column_named_with_its_unit_reads_as_the_generic_column_of_that_unit(tmp_path, named, plain, value):
    unit_named, generic = tmp_path / "named.csv", tmp_path / "plain.csv"
    unit_named.write_text(f"timestamp,{named}\n" + _body(320, value), encoding="utf-8")
    generic.write_text(f"timestamp,{plain}\n" + _body(320, value), encoding="utf-8")
    recording, expected = read_csv(unit_named), read_csv(generic)
    assert sorted(recording.channels) == sorted(expected.channels)
    for name, channel in expected.channels.items():
        assert np.allclose(recording.channels[name].values, channel.values, equal_nan=True), name


def test_a_time_column_in_ms_and_beat_intervals_in_s_read_in_their_units(tmp_path):
    beats_s = [0.8 + 0.01 * (i % 5) for i in range(200)]
    times_ms = np.cumsum([0.0, *beats_s[:-1]]) * 1000
    named, plain = tmp_path / "named.csv", tmp_path / "plain.csv"
    named.write_text("Time [ms],IBI [s]\n" + "".join(f"{t:.0f},{b}\n" for t, b in zip(times_ms, beats_s, strict=True)))
    plain.write_text("time_ms,ibi_s\n" + "".join(f"{t:.0f},{b}\n" for t, b in zip(times_ms, beats_s, strict=True)))
    recording, expected = read_csv(named), read_csv(plain)
    assert recording.duration_s == pytest.approx(expected.duration_s) and 150 < expected.duration_s < 170
    assert np.allclose(recording.channels["ibi"].values, expected.channels["ibi"].values)
