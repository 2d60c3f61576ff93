"""A live session keeps each link's state in the physio track's ``settings.links`` (``link_states``). A board
that sent a few corrupt frames and was then unplugged is still recorded as gone: the closing count of dropped frames
goes beside ``disconnected``, not in its place."""

from __future__ import annotations

import threading

import serial

from firmware_bridge.link import Status, link_states
from tests.firmware_bridge.fakes import board, data_frame, send


def _corrupt(frame: bytes) -> bytes:
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


def test_a_board_unplugged_after_corrupt_frames_is_still_recorded_as_disconnected():
    time, link, recorder = board(latency_s=0.0)
    for i in range(8):
        send(link, time, recorder, data_frame(i, 250 * i), after_s=0.25 if i else 0.0)
    send(link, time, recorder, _corrupt(data_frame(8, 2000)))  # said at once: a new kind of drop
    send(link, time, recorder, _corrupt(data_frame(9, 2250)))  # counted, not said yet (within 10 s)
    send(link, time, recorder, data_frame(10, 2500))

    def unplugged(*_args, **_kwargs):
        raise serial.SerialException("device reports readiness to read but returned no data")

    link.port.read = unplugged
    time.now += 1.0
    stop = threading.Event()
    loop = threading.Thread(target=link.run_until_stopped, args=(recorder, stop), daemon=True)
    loop.start()
    for _ in range(500):
        if any(s.state == "disconnected" for s in recorder.statuses):
            break
        loop.join(0.01)
    stop.set()
    loop.join(5)
    link.close()
    assert recorder.statuses[-1].count  # the closing count, said last
    state = link_states(recorder.statuses)[link.name]  # what the track's settings.links keeps
    assert state.startswith("disconnected (serial port "), state  # was: 'error (frame(s) dropped in the session ...'
    assert "; frame(s) dropped in the session: 2 bad checksum" in state, state


def test_a_count_of_drops_amid_good_frames_leaves_the_link_connected():
    statuses = [Status("connecting", "port open", 0.0, "board"), Status("connected", "frames", 0.5, "board"),
                Status("error", "frame(s) dropped so far: 3 bad checksum", 4.0, "board", count=True),
                Status("connected", "strap found", 1.0, "strap")]
    # was: 'error (frame(s) dropped so far ...)' as the board's state, though its frames went on coming
    assert link_states(statuses) == {"board": "connected (frames); frame(s) dropped so far: 3 bad checksum",
                                     "strap": "connected (strap found)"}
