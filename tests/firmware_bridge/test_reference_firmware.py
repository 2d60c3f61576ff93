"""The reference board sketch, compiled for the host with a minimal Arduino shim, talks to the decoder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.serial_link import TYPE_DATA, TYPE_HELLO, FrameDecoder

REPO = Path(__file__).resolve().parents[2]
SKETCH = REPO / "firmware_bridge" / "firmware" / "emotrace_board" / "emotrace_board.ino"
SHIM = Path(__file__).parent / "host_shim"


@pytest.fixture(scope="module")
def board_binary(tmp_path_factory) -> Path:
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("no g++ to build the sketch for the host")
    build = tmp_path_factory.mktemp("board")
    (build / "sketch.cpp").write_text('#include "Arduino.h"\n' + SKETCH.read_text())
    binary = build / "board"
    subprocess.run(
        [
            compiler,
            "-std=c++17",
            "-Wall",
            "-Werror",
            "-I",
            str(SHIM),
            str(build / "sketch.cpp"),
            str(SHIM / "main.cpp"),
            "-o",
            str(binary),
        ],
        check=True,
        capture_output=True,
    )
    return binary


@pytest.fixture(scope="module")
def board_output(board_binary) -> bytes:
    return subprocess.run([str(board_binary), "6000"], check=True, capture_output=True).stdout


def test_sketch_frames_decode_with_valid_checksums_and_consecutive_sequence_numbers(board_output):
    decoder = FrameDecoder()
    frames = decoder.feed(board_output)
    assert decoder.crc_errors == 0 and decoder.bytes_skipped == 0
    assert frames[0].type == TYPE_HELLO and frames[0].payload == b"emotrace-board-v1"
    assert [f.seq for f in frames] == list(range(len(frames)))
    data = [f for f in frames if f.type == TYPE_DATA]
    assert len(data) == pytest.approx(64 * 6, abs=2)  # 64 Hz for 6 s
    assert sum(1 for f in frames if f.type == TYPE_HELLO) == 2  # at start and after 5 s


def test_sketch_sends_ppg_every_frame_and_eda_temperature_at_4_hz(board_output):
    data = [f for f in FrameDecoder().feed(board_output) if f.type == TYPE_DATA]
    channels = [dict(f.readings()) for f in data]
    assert all("bvp" in c for c in channels)
    slow = [c for c in channels if "eda" in c]
    assert len(slow) == pytest.approx(len(data) / 16, abs=1)
    reading_a0 = 300  # the shim's analogRead(A0); Seeed's conversion for the Grove GSR v1.2
    assert slow[0]["eda"] == pytest.approx(1e6 * (512 - reading_a0) / ((1024 + 2 * reading_a0) * 10_000), rel=1e-5)
    assert slow[0]["temp"] == pytest.approx((160 * 5.0 / 1023 - 0.5) * 100, rel=1e-5)
    board_ms = [f.board_ms for f in data]
    assert all(0 < b - a <= 16 for a, b in zip(board_ms, board_ms[1:], strict=False))


def test_a_loop_held_up_skips_the_frames_it_missed_instead_of_sending_them_in_a_burst(board_binary):
    held = subprocess.run([str(board_binary), "6000", "3000", "1000"], check=True, capture_output=True).stdout
    frames = FrameDecoder().feed(held)  # the loop held up for a second at 3 s
    data = [f for f in frames if f.type == TYPE_DATA]
    steps_ms = np.diff([f.board_ms for f in data])
    assert steps_ms.min() > 0  # was: 58 readings at one board time, sent back to back
    (jump,) = np.flatnonzero(steps_ms > 16)
    assert 990 <= steps_ms[jump] <= 1016
    # the readings never taken are frames the host counts lost: a gap, not samples a period apart
    assert data[jump + 1].seq - data[jump].seq == pytest.approx(64, abs=1)
    assert len(data) == pytest.approx(64 * 6, abs=3)  # the shim runs 6 s besides the held one
