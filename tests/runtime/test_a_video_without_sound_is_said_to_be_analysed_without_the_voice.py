"""A session video with no sound stream at all (a camera without a microphone, the sound muted at export) is analysed
without the voice, said in one line, as a sound stream holding nothing is; a sound file's lack of a picture is not
said."""

import logging

from runtime.cli import main
from tests.media_factory import write_media


def test_a_video_without_a_sound_stream_is_said_to_be_analysed_without_the_voice(tmp_path, capsys, caplog):
    video = write_media(tmp_path / "silent_camera.mp4", None, video_codec="libx264", video_s=1.0)
    with caplog.at_level(logging.WARNING):
        assert main(["analyze", str(video), "--out", str(tmp_path / "out")]) == 0
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"{video}: has no audio stream; analysed without the voice" in said  # was: nothing said


def test_a_sound_file_is_not_said_to_lack_a_picture(tmp_path, capsys, caplog):
    """The other way round is no news: a sound file has no picture by nature, and says nothing of it."""
    from tests.media_factory import tone

    sound = write_media(tmp_path / "voice.m4a", tone(1.0), 48000, "aac")
    with caplog.at_level(logging.WARNING):
        main(["analyze", str(sound), "--out", str(tmp_path / "out")])
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any("without the face" in line for line in said), said
