"""A DATA frame's channel ids as docs/serial-protocol.md numbers them, built byte by byte (not through the host's
own ``data_payload``, which shares the host's table and would agree with any mistake in it)."""

from __future__ import annotations

import struct

from firmware_bridge.serial_link import TYPE_DATA, FrameDecoder, encode_frame
from tests.firmware_bridge.fakes import board, send

# docs/serial-protocol.md, "DATA (type 0x01)"
DOCUMENTED_IDS = {1: "eda", 2: "bvp", 3: "temp", 4: "acc_x", 5: "acc_y", 6: "acc_z", 7: "resp"}


def _raw_payload(pairs: list[tuple[int, float]]) -> bytes:
    return b"".join(struct.pack("<Bf", cid, value) for cid, value in pairs)


def test_each_documented_channel_id_is_read_as_its_documented_channel():
    pairs = [(cid, float(cid) / 8) for cid in DOCUMENTED_IDS]
    (frame,) = FrameDecoder().feed(encode_frame(TYPE_DATA, 0, 0, _raw_payload(pairs)))
    assert frame.readings() == [(DOCUMENTED_IDS[cid], value) for cid, value in pairs]


def test_an_unknown_channel_id_is_passed_on_as_ch_and_its_number():
    time, link, recorder = board()
    payload = _raw_payload([(1, 2.0), (9, 0.5), (200, 1.5)])
    send(link, time, recorder, *(encode_frame(TYPE_DATA, seq, seq * 250, payload) for seq in range(3)))
    for name, value in (("ch9", 0.5), ("ch200", 1.5)):
        _, values = recorder.series(name)
        assert list(values) == [value] * 3


def test_a_data_frame_of_the_largest_payload_255_bytes_is_framed_and_read():
    pairs = [(2, float(i)) for i in range(51)]  # 51 readings of 5 bytes: 255, the length byte's largest value
    data = encode_frame(TYPE_DATA, 3, 1000, _raw_payload(pairs))
    assert data[10] == 255
    (frame,) = FrameDecoder().feed(data)
    assert [value for _, value in frame.readings()] == [float(i) for i in range(51)]
