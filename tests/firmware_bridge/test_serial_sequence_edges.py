"""Edges of the serial board's frame order (docs/serial-protocol.md, "Loss", "Late frames", "Time"): a HELLO held
back across a wrap of board time, the whole-cycle rule before 64 frames, a fast board's loss after a stall."""

from __future__ import annotations

from firmware_bridge.serial_link import TYPE_DATA, TYPE_HELLO, data_payload, encode_frame
from tests.firmware_bridge.fakes import board, data_frame, send


def test_a_hello_in_the_last_millisecond_before_a_wrap_held_back_past_it_is_late_not_a_second_restart():
    time, link, recorder = board(latency_s=0.0)
    start_ms = 2**32 - 1750  # board time wraps after frame 6
    frames = [data_frame(seq, start_ms + 250 * seq) for seq in range(7)]
    send(link, time, recorder, *frames, after_s=1.5)
    # the HELLO goes out in the millisecond of frame 6, the last before the wrap; a bridge holds it past frame 8
    hello = encode_frame(TYPE_HELLO, 7, start_ms + 250 * 6, b"emotrace-board")
    send(link, time, recorder, data_frame(8, 0), hello, data_frame(9, 250), after_s=0.5)
    restarts = [s.detail for s in recorder.statuses if "clock restarted" in s.detail]
    assert len(restarts) == 1  # the wrap; not the held-back HELLO taken for a second one
    assert link.late_frames == 1
    assert all(g.end_s - g.start_s < 5.0 for g in recorder.gaps)
    link.close()


def test_a_whole_cycle_of_seq_is_not_judged_lost_before_64_frames_have_come():
    # a HELLO at boot and the first DATA frame a millisecond later: a "period" of 1 ms that is no frame period
    time, link, recorder = board(latency_s=0.0)
    eda = data_payload([("eda", 2.0)])
    send(link, time, recorder, encode_frame(TYPE_HELLO, 0, 0, b"emotrace-board"),
         encode_frame(TYPE_DATA, 1, 1, eda), after_s=0.1)
    # the board's sensors take 40 s to settle; its next frame is the next seq
    send(link, time, recorder, encode_frame(TYPE_DATA, 2, 40_001, eda), after_s=40.0)
    assert not any("lost" in g.reason for g in recorder.gaps)
    assert [g.reason for g in recorder.gaps] == ["no sample from the board for 40.0 s"]
    link.close()


def test_a_1_khz_board_that_loses_a_second_of_frames_after_a_stall_among_its_last_64_has_lost_them():
    # native USB CDC: 1 kHz. A 64 ms stall among the last 64 frames makes their rate 500 Hz; the loss that follows
    # runs at the board's own 1 kHz: within four times the remembered rate, a loss, not a restart
    time, link, recorder = board(latency_s=0.0)
    eda = data_payload([("eda", 2.0)])
    board_ms = [seq for seq in range(32)] + [64 + seq for seq in range(32, 64)]
    for start in range(0, 64, 16):
        frames = [encode_frame(TYPE_DATA, seq, board_ms[seq], eda) for seq in range(start, start + 16)]
        send(link, time, recorder, *frames, after_s=0.016 if start else 0.0)
    send(link, time, recorder, encode_frame(TYPE_DATA, 64 + 1000, board_ms[63] + 1001, eda), after_s=1.0)
    assert not any("restarted" in s.detail for s in recorder.statuses)
    assert [g.reason for g in recorder.gaps][-1] == "1000 frame(s) lost or corrupt"
    link.close()
