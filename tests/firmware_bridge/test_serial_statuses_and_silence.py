"""What the serial link says and records around HELLOs and silences (docs/serial-protocol.md, "HELLO", "Silence")."""

from __future__ import annotations

from firmware_bridge.serial_link import TYPE_DATA, TYPE_HELLO, data_payload, encode_frame
from tests.firmware_bridge.fakes import board, data_frame, send


def test_a_board_s_hello_repeated_every_5_s_names_it_once():
    time, link, recorder = board(latency_s=0.0)
    seq = 0
    for second in range(16):
        frames = [data_frame(seq, 1000 * second)]
        seq += 1
        if second % 5 == 0:
            frames.append(encode_frame(TYPE_HELLO, seq, 1000 * second, b"emotrace-board-v1"))
            seq += 1
        send(link, time, recorder, *frames, after_s=1.0)
    named = [s for s in recorder.statuses if "emotrace-board-v1" in s.detail]
    assert len(named) == 1 and named[0].detail == "board 'emotrace-board-v1', protocol v1"
    link.close()


def test_a_silence_said_once_does_not_make_a_slow_board_s_later_steps_gaps():
    # DATA every 8 s, a HELLO 4 s after each: heard, not silent; once it fell silent 10 s (said, recorded), its
    # steps after are its own cadence again
    time, link, recorder = board(latency_s=0.0)
    eda = data_payload([("eda", 2.0)])
    seq, board_ms = 0, 0

    def step(data_after_s: float, hello: bool = True) -> None:
        nonlocal seq, board_ms
        if hello:
            send(link, time, recorder, encode_frame(TYPE_HELLO, seq, board_ms + 4000, b"emotrace-board-v1"),
                 after_s=4.0)
            seq += 1
            data_after_s -= 4.0
        board_ms += int(round((data_after_s + (4.0 if hello else 0.0)) * 1000))
        send(link, time, recorder, encode_frame(TYPE_DATA, seq, board_ms, eda), after_s=data_after_s)
        seq += 1

    send(link, time, recorder, encode_frame(TYPE_DATA, seq, board_ms, eda), after_s=0.0)
    seq += 1
    for _ in range(12):
        step(8.0)
    time.now += 7.0
    link.poll(recorder)  # 7 s without a frame: said
    assert any(s.detail.startswith("no frame from the board") for s in recorder.statuses)
    board_ms += 7000
    step(3.0, hello=False)  # back 10 s after its last sample: that stretch is a gap
    gaps_before = len(recorder.gaps)
    assert recorder.gaps[-1].reason == "no frame from the board for 10.0 s"
    for _ in range(6):
        step(8.0)
    assert len(recorder.gaps) == gaps_before  # was: every later 8 s step a gap, the silence taken as said still
    link.close()


def test_a_board_heard_without_samples_twice_is_said_each_time_and_back_once_each_time():
    # 4 Hz DATA; twice for 8 s its frames carry no reading (its sensors gone): heard, no sample
    time, link, recorder = board(latency_s=0.0)
    eda = data_payload([("eda", 2.0)])
    for seq in range(4 * 40):
        t_ms = 250 * seq
        empty = 10_000 <= t_ms < 18_000 or 25_000 <= t_ms < 33_000
        send(link, time, recorder, encode_frame(TYPE_DATA, seq, t_ms, b"" if empty else eda), after_s=0.25)
    said = [s.detail for s in recorder.statuses if "sample" in s.detail]
    assert [d.split(" for ")[0] if d.startswith("the board is heard") else d for d in said] == [
        "the board is heard, but no sample from it", "samples arriving again",
        "the board is heard, but no sample from it", "samples arriving again"]
    assert [g.reason for g in recorder.gaps] == ["no sample from the board for 8.2 s"] * 2
    link.close()
