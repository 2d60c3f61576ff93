"""A camera whose sound stops before its picture (a microphone unplugged mid-session): the audio the recording is
missing at its end is audio missing, as a late start is, and should be said, listed in the voice track's gaps and
its windows there make no claim ("no audio ..."), not leave the voice track ending without a word."""

import json

import pytest

from runtime.cli import main
from tests.media_factory import tone, write_media


def test_a_sound_stream_ending_before_the_picture_is_said_and_its_end_listed_as_missing(tmp_path, caplog):
    path = write_media(tmp_path / "mic_unplugged.mkv", tone(5.0, 16000), 16000, "pcm_s16le",
                       video_codec="libx264", video_s=12.0)
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0
    timeline = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert timeline["input"]["duration_s"] == pytest.approx(12.0, abs=0.1)
    audio = next(t for t in timeline["tracks"] if t["name"] == "audio")
    # the voice track covers the recording, its last 7 s listed as audio missing, as a late start's would be
    assert audio["windows"][-1]["end_s"] == pytest.approx(12.0, abs=0.1)  # was: 5.0, the track just stops
    assert audio["settings"]["gaps"] and audio["settings"]["gaps"][-1] == pytest.approx([5.0, 12.0], abs=0.1)
    assert all(w["reason"].startswith("no audio") for w in audio["windows"] if w["start_s"] >= 5.0)
    assert "no audio for 7.0 s, filled with silence (after the audio ends at 5.0 s, the file's other streams at " \
           "12.0 s)" in caplog.text  # was: nothing said; the track's status "complete"


def test_a_sound_a_few_frames_shorter_than_its_picture_is_left_as_it_is(tmp_path, caplog):
    path = write_media(tmp_path / "phone.mkv", tone(11.5, 16000), 16000, "pcm_s16le", video_codec="libx264",
                       video_s=12.0)
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0
    audio = next(t for t in json.loads((tmp_path / "out" / "timeline.json").read_text())["tracks"]
                 if t["name"] == "audio")
    assert audio["settings"]["gaps"] == [] and "filled with silence" not in caplog.text


def test_the_silence_after_a_sound_that_ended_early_comes_in_blocks_of_a_second_at_most(tmp_path):
    from runtime.media import iter_audio

    path = write_media(tmp_path / "mic_unplugged.mkv", tone(2.0, 16000), 16000, "pcm_s16le",
                       video_codec="libx264", video_s=30.0)
    blocks = list(iter_audio(path, 16000))
    # was: the 28 s of silence in one block (an hour of it is 230 MB at once, for a replay that reads 0.1 s chunks)
    assert sum(b.size for b in blocks) == pytest.approx(30 * 16000, abs=1600) and max(b.size for b in blocks) <= 16000


def test_the_silence_before_a_late_audio_start_comes_in_blocks_of_a_second_at_most(tmp_path):
    from runtime.media import iter_audio

    path = write_media(tmp_path / "late.mkv", tone(2.0, 16000), 16000, "pcm_s16le", video_codec="libx264",
                       video_s=32.0, audio_start_s=30.0)
    blocks = list(iter_audio(path, 16000))
    # was: the 30 s before it in one block (up to 6 h, 1.4 GB, at once)
    assert sum(b.size for b in blocks) == pytest.approx(32 * 16000, abs=1600) and max(b.size for b in blocks) <= 16000
