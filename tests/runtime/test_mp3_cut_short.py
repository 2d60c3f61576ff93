import logging
import re

import pytest

from runtime.media import mp3_declared_s, read_audio
from tests.media_factory import cut_short, tone, with_cover_art, write_media


def _mp3(tmp_path, rate_hz: int, covered: bool):
    if covered:  # an ID3v2 tag holding a picture before the first frame (the writer encodes at 16 kHz)
        return with_cover_art(tmp_path / "song.mp3", tone(10.0, rate_hz))
    return write_media(tmp_path / "memo.mp3", tone(10.0, rate_hz), rate_hz, "libmp3lame")


@pytest.mark.parametrize(("rate_hz", "covered"), [(16000, False), (44100, False), (8000, False), (16000, True)])
def test_an_mp3_declares_the_length_of_what_was_encoded(tmp_path, rate_hz, covered):
    assert mp3_declared_s(_mp3(tmp_path, rate_hz, covered)) == pytest.approx(10.0, abs=0.001)


@pytest.mark.parametrize("covered", [False, True])
def test_an_mp3_cut_short_is_said_to_end_before_the_length_it_declares(tmp_path, caplog, covered):
    path = _mp3(tmp_path, 16000, covered)
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
    path = _mp3(tmp_path, 16000, False)
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
