"""What a timeline records for an enabled arm that made no track: the stream the input lacks is the one the arm
reads (the voice's audio, the face's video), not another."""

from __future__ import annotations

import pytest

from runtime import pipeline
from runtime.media import MediaInfo


def _media(has_audio: bool, has_video: bool) -> MediaInfo:
    return MediaInfo(path="session.mkv", container="matroska", end_s=2.0, has_audio=has_audio, has_video=has_video,
                     audio_streams=int(has_audio))


@pytest.mark.parametrize(("section", "has_audio", "has_video", "why"), [
    ("audio", False, True, "the input has no audio stream"),  # a silent video: the voice had nothing
    ("face", True, False, "the input has no video stream"),  # a sound file: the face had nothing
    ("body", True, False, "the input has no video stream"),
    ("audio", True, True, "found nothing it could read in the input"),  # a stream there, nothing in it
])
def test_an_arm_without_its_stream_is_recorded_as_missing_that_stream(section, has_audio, has_video, why):
    assert pipeline.why_no_track(section, _media(has_audio, has_video), {}) == why


def test_a_physio_arm_without_a_recording_beside_the_input_says_so():
    media = _media(True, True)
    assert pipeline.why_no_track("physio", media, {}) == "no recording was given for it beside the input"
    assert pipeline.why_no_track("physio", media, {"physio_path": "e4.zip"}) == (
        "found nothing it could read in the input")
