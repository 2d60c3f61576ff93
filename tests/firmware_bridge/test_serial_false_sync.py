"""Noise on the serial line that holds the sync pair and a large length byte looks like the start of a long frame.
The frames after it must not wait for that length to come (docs/serial-protocol.md: the next good frame is found
even when a corrupt frame's length byte was damaged), and a gap's reason names every cause that coincides."""

import pytest

from firmware_bridge.serial_link import HEADER, TYPE_DATA, TYPE_HELLO, FrameDecoder, encode_frame
from tests.firmware_bridge.fakes import board, data_frame, send

FALSE_START = b"\xa5\x5a\x01\x01\x00\x00\x00\x00\x00\x00\xff"  # a sync pair and a header claiming 255 payload bytes


def test_good_frames_after_a_false_frame_start_are_decoded_without_waiting_for_its_claimed_length():
    decoder = FrameDecoder()
    frames = decoder.feed(FALSE_START + b"".join(data_frame(seq, 250 * seq) for seq in range(1, 6)))
    assert [f.seq for f in frames] == [1, 2, 3, 4, 5]
    assert decoder.crc_errors == 1 and decoder.bytes_skipped_between_frames() == 0  # its bytes are its own


def test_a_partly_received_frame_is_still_waited_for():
    whole = data_frame(1, 250)
    decoder = FrameDecoder()
    assert decoder.feed(whole[:-3]) == [] and [f.seq for f in decoder.feed(whole[-3:])] == [1]
    assert decoder.crc_errors == 0


def test_a_slow_boards_frames_after_line_noise_arrive_as_sent_with_no_silence_said():
    time, link, recorder = board(latency_s=0.0)
    send(link, time, recorder, data_frame(0, 0), FALSE_START, after_s=0.0)
    for seq in range(1, 9):  # a DATA frame a second: the false frame's 268 bytes would take 12 of them
        send(link, time, recorder, data_frame(seq, 1000 * seq), after_s=1.0)
        assert recorder.series("eda")[0].size == seq + 1
    assert not any("no frame from the board" in s.detail for s in recorder.statuses)
    assert recorder.gaps == []


def test_a_restart_gap_also_names_the_frames_dropped_as_stamped_before_the_last_sample():
    time, link, recorder = board(latency_s=0.0)
    send(link, time, recorder, *[data_frame(s, 250 * s) for s in range(1, 5)], after_s=3.0)  # read 2 s late
    # the link's delay falls: frame 5 maps before the last stamp (dropped), then the board starts again
    send(link, time, recorder, data_frame(5, 1250), encode_frame(TYPE_DATA, 6, 1500, b""), data_frame(0, 40),
         after_s=0.01)
    [gap] = recorder.gaps
    assert gap.reason.startswith("board restarted; 1 frame(s) dropped, stamped before the last sample")


def test_a_frame_still_coming_whose_payload_holds_a_whole_good_frame_is_waited_for_not_dropped():
    inner = encode_frame(TYPE_DATA, 7, 123_456, b"")  # 13 bytes: a good frame of no payload
    outer = encode_frame(TYPE_DATA, 2, 5_000, b"\x01" + inner + bytes(6))  # 4 readings (id, float32)
    cut = 2 + HEADER.size + 1 + len(inner)  # the read ends just after the bytes that look like a frame
    decoder = FrameDecoder()
    frames = decoder.feed(data_frame(1, 4_000)) + decoder.feed(outer[:cut]) + decoder.feed(outer[cut:])
    assert [(f.seq, f.board_ms) for f in frames] == [(1, 4_000), (2, 5_000)]
    assert decoder.crc_errors == 0 and decoder.bytes_skipped == 0


def test_a_restart_gap_also_names_the_frames_lost_after_the_restart():
    time, link, recorder = board(latency_s=0.0)
    send(link, time, recorder, *[data_frame(s, 250 * s) for s in range(1, 9)], after_s=2.0)
    send(link, time, recorder, encode_frame(TYPE_HELLO, 0, 5, b"board"), after_s=0.3)  # the board restarted
    send(link, time, recorder, data_frame(5, 1255), after_s=1.3)  # seq 1-4 lost on the way
    assert [g.reason for g in recorder.gaps] == ["board restarted; 4 frame(s) lost or corrupt"]


@pytest.mark.parametrize(("seq", "after_frame_1"), [(3, True), (2, False)])  # a frame lost before; the first
def test_a_frame_still_coming_after_a_loss_whose_payload_holds_a_good_frame_is_waited_for(seq, after_frame_1):
    inner = encode_frame(TYPE_DATA, 7, 123_456, b"")
    outer = encode_frame(TYPE_DATA, seq, 5_000, b"\x01" + inner + bytes(6))
    cut = 2 + HEADER.size + 1 + len(inner)
    decoder = FrameDecoder()
    frames = decoder.feed(data_frame(1, 4_000)) if after_frame_1 else []
    frames += decoder.feed(outer[:cut]) + decoder.feed(outer[cut:])
    assert (seq, 5_000) in [(f.seq, f.board_ms) for f in frames]
    assert 123_456 not in [f.board_ms for f in frames]
