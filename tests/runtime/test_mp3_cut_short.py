import logging
import re

import numpy as np
import pytest

from runtime.media import mp3_declared_s, read_audio
from tests.media_factory import cut_short, tone, with_cover_art, write_media


def _mp3(tmp_path, rate_hz: int = 16000, channels: int = 1, covered: bool = False):
    samples = tone(10.0, rate_hz)
    if covered:  # an ID3v2 tag holding a picture before the first frame (the writer encodes mono at 16 kHz)
        return with_cover_art(tmp_path / "song.mp3", samples)
    samples = samples if channels == 1 else np.stack([samples, samples[::-1]], axis=1)
    return write_media(tmp_path / "memo.mp3", samples, rate_hz, "libmp3lame")


@pytest.mark.parametrize(("rate_hz", "covered"), [(16000, False), (44100, False), (8000, False), (16000, True)])
def test_an_mp3_declares_the_length_of_what_was_encoded(tmp_path, rate_hz, covered):
    assert mp3_declared_s(_mp3(tmp_path, rate_hz, covered=covered)) == pytest.approx(10.0, abs=0.001)


@pytest.mark.parametrize("covered", [False, True])
def test_an_mp3_cut_short_is_said_to_end_before_the_length_it_declares(tmp_path, caplog, covered):
    path = _mp3(tmp_path, covered=covered)
    told: list[str] = []
    read_audio(path, ended_early=told.append)
    assert told == []  # whole: nothing to say
    cut_short(path, 0.5)
    with caplog.at_level(logging.WARNING):
        kept = read_audio(path, ended_early=told.append)  # was: read as a 5 s recording, unsaid
    assert 4.0 < kept.size / 16000 < 6.0
    assert len(told) == 1 and re.fullmatch(r"cut short: the audio ends at \d\.\d s of the 10\.0 s the file declares",
                                           told[0])


def test_an_mp3_without_a_frame_count_is_not_said_cut_short(tmp_path):
    path = _mp3(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Info", b"\0\0\0\0", 1))  # as a writer that could not seek back leaves it
    assert mp3_declared_s(path) is None
    cut_short(path, 0.5)
    told: list[str] = []
    read_audio(path, ended_early=told.append)
    assert told == []  # no length declared: nothing shows a cut


@pytest.mark.parametrize("head", [b"", b"ID3", b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f", b"\xff\xfb", b"\xff\xff\xff\xff" * 8,
                                  b"not an mp3 at all" * 100])
def test_a_file_too_short_or_damaged_for_an_mp3_header_declares_no_length(tmp_path, head):
    path = tmp_path / "bad.mp3"
    path.write_bytes(head)
    assert mp3_declared_s(path) is None
    assert mp3_declared_s(tmp_path / "missing.mp3") is None


def _told(path, rate_hz: int = 16000) -> list[str]:
    told: list[str] = []
    read_audio(path, rate_hz, ended_early=told.append)
    return told


def test_a_whole_mp3_whose_frame_count_its_byte_count_cannot_hold_is_not_said_cut_short(tmp_path):
    path = _mp3(tmp_path)
    data = bytearray(path.read_bytes())
    tag = data.index(b"Info")
    data[tag + 8:tag + 12] = b"\xff\xff\xff\xff"  # a damaged count: 4.3e9 frames in a 30 kB file
    path.write_bytes(bytes(data))
    assert _told(path) == []  # was: "cut short: the audio ends at 10.0 s of the 154618822.5 s the file declares"


def test_an_mp3_with_stray_bytes_before_its_first_frame_cut_short_is_said_so(tmp_path):
    path = _mp3(tmp_path)
    data = path.read_bytes()
    first = data.index(b"\xff\xf3")  # after the ID3v2 tag the muxer writes
    path.write_bytes(data[:first] + b"\xff" * 16 + data[first:])  # junk FFmpeg passes over
    assert mp3_declared_s(path) == pytest.approx(10.0, abs=0.001)  # was None
    cut_short(path, 0.5)
    told = _told(path)
    assert len(told) == 1 and told[0].startswith("cut short: ")


@pytest.mark.parametrize(("rate_hz", "channels"), [(8000, 2), (48000, 2), (11025, 1)])
def test_a_whole_mp3_with_an_id3v1_tag_at_its_end_is_not_said_cut_short(tmp_path, rate_hz, channels):
    path = _mp3(tmp_path, rate_hz, channels)
    path.write_bytes(path.read_bytes() + b"TAG" + b"\0" * 125)
    assert mp3_declared_s(path) == pytest.approx(10.0, abs=0.001)
    assert _told(path, rate_hz) == []


def test_an_id3v24_tag_with_a_footer_is_passed_over(tmp_path):
    path = _mp3(tmp_path)
    data = path.read_bytes()
    first = data.index(b"\xff\xf3")
    body = b"TIT2\x00\x00\x00\x05\x00\x00\x03memo" + b"\0" * 7
    size = bytes((len(body) >> (7 * k)) & 0x7F for k in (3, 2, 1, 0))
    tag = b"ID3\x04\x00\x10" + size + body + b"3DI\x04\x00\x10" + size
    path.write_bytes(tag + data[first:])
    assert mp3_declared_s(path) == pytest.approx(10.0, abs=0.001)


def test_a_whole_mp3_whose_frame_count_outnumbers_its_bytes_is_not_said_cut_short(tmp_path):
    path = _mp3(tmp_path)
    data = bytearray(path.read_bytes())
    tag = data.index(b"Info")
    flags = int.from_bytes(data[tag + 4:tag + 8], "big") & ~2  # a writer giving the frame count alone
    data[tag + 4:tag + 8] = flags.to_bytes(4, "big")
    data[tag + 8:tag + 12] = b"\xff\xff\xff\xff"  # a damaged count: 4.3e9 frames in a 30 kB file
    path.write_bytes(bytes(data))
    assert mp3_declared_s(path) is None
    told: list[str] = []
    read_audio(path, ended_early=told.append)
    assert told == []  # was: "cut short: the audio ends at 10.1 s of the 154618822.6 s the file declares"


def test_an_mp3_with_header_like_junk_before_its_first_frame_cut_short_is_said_so(tmp_path):
    path = _mp3(tmp_path)
    data = path.read_bytes()
    first = data.index(b"\xff\xf3")  # after the ID3v2 tag the muxer writes
    path.write_bytes(data[:first] + b"\xff\xf3\x84\x00" + b"\0" * 12 + data[first:])  # a false MPEG-2 Layer III sync
    assert mp3_declared_s(path) == pytest.approx(10.0, abs=0.001)  # was None
    cut_short(path, 0.5)
    told: list[str] = []
    read_audio(path, ended_early=told.append)
    assert len(told) == 1 and told[0].startswith("cut short: ")
