"""The board's dropout rule (docs/serial-protocol.md, "Silence"): from 8 known steps the 2 s floor holds, and frames
sharing one board time say nothing of the cadence."""

from __future__ import annotations

from firmware_bridge.serial_link import TYPE_DATA, data_payload, encode_frame
from tests.firmware_bridge.fakes import board, frame_of, send


def _frame(seq: int, board_ms: int, channel: str = "eda", value: float = 2.0) -> bytes:
    return frame_of(seq, board_ms, **{channel: value})


def test_a_4_hz_board_stalling_3_s_after_ten_samples_leaves_a_gap():
    # 9 steps known: over half of CADENCE_STEPS, so DROPOUT_MIN_S (2 s), not SILENCE_S, is the floor
    time, link, recorder = board(latency_s=0.0)
    for seq in range(10):
        send(link, time, recorder, _frame(seq, 250 * seq), after_s=0.25)
    send(link, time, recorder, _frame(10, 250 * 9 + 3000), after_s=3.0)  # it goes on counting its frames
    assert [g.reason for g in recorder.gaps] == ["no sample from the board for 3.0 s"]
    link.close()


def test_a_slow_board_sending_each_instant_in_four_frames_at_one_board_time_leaves_no_gap():
    # every 3 s, one DATA frame a channel, all four at the instant's board time: steps of 0 between them
    time, link, recorder = board(latency_s=0.0)
    seq = 0
    for instant in range(20):
        frames = []
        for channel, value in (("eda", 2.0), ("temp", 33.0), ("bvp", 0.5), ("resp", 0.1)):
            frames.append(_frame(seq, 3000 * instant, channel, value))
            seq += 1
        send(link, time, recorder, *frames, after_s=3.0)
    assert recorder.gaps == []
    link.close()


def test_a_settled_4_hz_board_stalling_2_5_s_leaves_a_gap_over_the_2_s_floor():
    time, link, recorder = board(latency_s=0.0)
    for seq in range(20):
        send(link, time, recorder, _frame(seq, 250 * seq), after_s=0.25)
    send(link, time, recorder, _frame(20, 250 * 19 + 2500), after_s=2.5)
    assert [g.reason for g in recorder.gaps] == ["no sample from the board for 2.5 s"]
    link.close()


def test_a_slow_board_said_silent_leaves_its_silence_as_a_gap_though_under_twice_its_step():
    # a board sending every 4 s (its cadence settled) is silent 7 s: under twice its step, but said silent (6 s
    # without any frame), and a silence said is a silence recorded
    time, link, recorder = board(latency_s=0.0)
    for seq in range(12):
        send(link, time, recorder, _frame(seq, 4000 * seq), after_s=4.0)
    time.now += 6.5
    link.poll(recorder)  # nothing came: the silence is said
    assert any(s.detail.startswith("no frame from the board") for s in recorder.statuses)
    send(link, time, recorder, _frame(12, 4000 * 11 + 7000), after_s=0.5)
    assert [g.reason for g in recorder.gaps] == ["no frame from the board for 7.0 s"]
    link.close()


def test_a_slow_channel_s_step_from_the_end_of_a_board_gap_is_none_of_its_cadence():
    # EDA at 4 Hz, temperature every 8 s in the same frames; the whole board stalls 3 s (a gap on every channel).
    # Temperature's next step, from the stall's end, is no step of its own: learnt, it made its 8 s a dropout
    time, link, recorder = board(latency_s=0.0)
    seq = 0
    for quarter in range(4 * 40):
        t_ms = 250 * quarter
        if 2750 <= t_ms < 5500:
            continue  # stalled; its frame counter stood too
        readings = [("eda", 2.0)] + ([("temp", 33.0)] if t_ms % 8000 == 0 else [])
        send(link, time, recorder, encode_frame(TYPE_DATA, seq, t_ms, data_payload(readings)),
             after_s=0.25 if quarter != 22 else 3.0)
        seq += 1
    assert [g.reason for g in recorder.gaps] == ["no sample from the board for 3.0 s"]
    assert not any("temp" in s.detail for s in recorder.statuses)
    link.close()
