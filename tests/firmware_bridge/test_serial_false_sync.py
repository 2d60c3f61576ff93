"""Noise on the serial line that holds the sync pair and a large length byte looks like the start of a long frame.
The frames after it must not wait for that length to come (docs/serial-protocol.md: the next good frame is found
even when a corrupt frame's length byte was damaged), and a gap's reason names every cause that coincides."""

from firmware_bridge.serial_link import TYPE_DATA, FrameDecoder, encode_frame
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
