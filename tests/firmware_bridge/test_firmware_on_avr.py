"""The reference sketch built for an Arduino Uno with avr-gcc and the Arduino AVR core, run on a simulated
ATmega328P (simavr): its real timer, ADC and UART, with sensor voltages in and serial bytes out, read by the
bridge. Skipped, with the reason, where the AVR toolchain or simavr is not installed (.ci/run installs them)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.serial_link import TYPE_DATA, TYPE_HELLO, FrameDecoder
from runtime.arms.physio.features import process_recording, window_features
from tests.firmware_bridge.fakes import board

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware_bridge" / "firmware"
ARDUINO_AVR = Path("/usr/share/arduino/hardware/arduino/avr")
NEEDED = "apt-get install gcc-avr avr-libc arduino-core-avr libsimavr-dev libelf-dev pkg-config make"

GSR_MV, TEMP_MV = 1466, 830  # a skin conductance near 13 uS and a TMP36 at 33 degC
GSR_OPEN_MV = 2503  # the Grove GSR module's reading with no skin, 512, as calibrated
PPG_MEAN_MV, PPG_SWING_MV, PPG_HZ = 2500, 1000, 1.2  # a pulse wave at 72 beats a minute
VREF_V, ADC_MAX = 5.0, 1023


@pytest.fixture(scope="module")
def board_sim(tmp_path_factory) -> tuple[Path, Path]:
    """The firmware ELF and the simulator, built once."""
    missing = [tool for tool in ("make", "avr-gcc", "gcc", "pkg-config") if shutil.which(tool) is None]
    if missing or not ARDUINO_AVR.is_dir():
        pytest.skip(f"no AVR toolchain here ({', '.join(missing) or 'no Arduino AVR core'}): {NEEDED}")
    if subprocess.run(["pkg-config", "--exists", "simavr"], check=False).returncode != 0:
        pytest.skip(f"no simavr library here: {NEEDED}")
    build = tmp_path_factory.mktemp("avr")
    for folder in ("emotrace_board", "sim"):
        subprocess.run(["make", "-s", "-C", str(FIRMWARE / folder), f"BUILD={build}"], check=True,
                       capture_output=True)
    return build / "emotrace_board.elf", build / "board_sim"


def run_board(board_sim: tuple[Path, Path], ms: int, gsr_mv: int = GSR_MV, temp_mv: int = TEMP_MV) -> bytes:
    elf, sim = board_sim
    args = [str(sim), str(elf), str(ms), str(gsr_mv), str(PPG_MEAN_MV), str(PPG_SWING_MV), str(PPG_HZ), str(temp_mv)]
    return subprocess.run(args, check=True, capture_output=True).stdout


def volts_read(millivolts: int) -> float:
    """What the firmware computes from analogRead for this input: the 10-bit ADC truncates."""
    return (millivolts * ADC_MAX // 5000) * VREF_V / ADC_MAX


def grove_gsr_us(millivolts: int) -> float:
    """Seeed's published conversion for the Grove GSR v1.2 (R = (1024 + 2 r) * 10000 / (512 - r) ohms, r the
    10-bit reading), as conductance."""
    reading = millivolts * ADC_MAX // 5000
    return 1e6 * (512 - reading) / ((1024 + 2 * reading) * 10_000)


@pytest.fixture(scope="module")
def six_seconds(board_sim) -> list:
    decoder = FrameDecoder()
    frames = decoder.feed(run_board(board_sim, 6000))
    assert decoder.crc_errors == 0 and decoder.bytes_skipped == 0  # every byte the UART sent is in a frame
    return frames


def test_the_uno_build_sends_hello_then_64_data_frames_a_second_on_its_own_timer(six_seconds):
    assert six_seconds[0].type == TYPE_HELLO and six_seconds[0].payload == b"emotrace-board-v1"
    assert [f.seq for f in six_seconds] == list(range(len(six_seconds)))
    assert [f.board_ms // 1000 for f in six_seconds if f.type == TYPE_HELLO] == [0, 5]  # at boot, then every 5 s
    board_ms = np.array([f.board_ms for f in six_seconds if f.type == TYPE_DATA])
    assert len(board_ms) == pytest.approx(64 * 6, abs=2)
    assert np.diff(board_ms).min() >= 14 and np.diff(board_ms).max() <= 17  # 15.625 ms in whole milliseconds
    assert (board_ms[-1] - board_ms[0]) / (len(board_ms) - 1) == pytest.approx(15.625, abs=0.05)


def test_adc_voltages_arrive_as_conductance_temperature_and_the_pulse_wave(six_seconds):
    data = [f for f in six_seconds if f.type == TYPE_DATA]
    readings = [dict(f.readings()) for f in data]
    slow = [r for r in readings if "eda" in r]
    assert len(slow) == pytest.approx(len(data) / 16, abs=1)  # 4 Hz
    assert slow[0]["eda"] == pytest.approx(grove_gsr_us(GSR_MV), rel=1e-5)
    assert slow[0]["temp"] == pytest.approx((volts_read(TEMP_MV) - 0.5) * 100, rel=1e-5)
    t_s = np.array([f.board_ms for f in data]) / 1000
    bvp = np.array([r["bvp"] for r in readings])
    sent = (PPG_MEAN_MV + PPG_SWING_MV * np.sin(2 * np.pi * PPG_HZ * t_s)) / 1000
    assert np.corrcoef(bvp, sent)[0, 1] > 0.99
    assert bvp.max() - bvp.min() == pytest.approx(2 * PPG_SWING_MV / 1000, abs=0.02)


def test_a_gsr_module_with_no_skin_sends_no_eda_while_temperature_goes_on(board_sim):
    frames = FrameDecoder().feed(run_board(board_sim, 1500, gsr_mv=GSR_OPEN_MV))
    readings = [dict(f.readings()) for f in frames if f.type == TYPE_DATA]
    assert sum("temp" in r for r in readings) >= 5
    assert not any("eda" in r for r in readings)  # was: 100 uS sent, the reading taken for a plain divider


def test_an_unplugged_temperature_sensor_sends_no_temperature_while_eda_goes_on(board_sim):
    frames = FrameDecoder().feed(run_board(board_sim, 1500, temp_mv=0))  # the pull-down holds A2 at 0 V
    readings = [dict(f.readings()) for f in frames if f.type == TYPE_DATA]
    assert sum("eda" in r for r in readings) >= 5
    assert not any("temp" in r for r in readings)  # was: -50 degC sent


def test_forty_seconds_of_the_board_through_the_bridge_give_its_heart_rate_and_skin_readings(board_sim):
    stream = run_board(board_sim, 40_000)
    time, link, recorder = board()
    per_second = len(stream) // 40
    for start in range(0, len(stream), per_second):  # a second's bytes arrive each second
        link.port.write(stream[start : start + per_second])
        time.now += 1.0
        while link.poll(recorder):
            pass
    link.close()
    assert recorder.gaps == []
    recording = recorder.to_recording("board")
    assert recording.channels["bvp"].rate_hz == pytest.approx(64, rel=0.01)
    features = window_features(process_recording(recording), 5.0, 35.0)
    assert features.measurements["hr_bpm"] == pytest.approx(PPG_HZ * 60, abs=1)  # beats found in the pulse wave
    assert features.measurements["temp_c"] == pytest.approx((volts_read(TEMP_MV) - 0.5) * 100, abs=0.01)
    assert math.isfinite(features.measurements["eda_tonic_us"])
    assert features.measurements["eda_tonic_us"] == pytest.approx(grove_gsr_us(GSR_MV), rel=0.05)
