"""Where a physio recording lands on the video's clock: a heart-rate spike at a known second of the recording must
show in exactly the windows that cover it once shifted by the offset (given, fractional, or from both wall clocks),
and the physio track must be placed against the length the input really has (an MP3 or a WebM recorded live has
no length in its header; a file cut short ends where it was read to).
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from runtime.cli import main
from tests.media_factory import cut_short, tone, write_media
from tests.physio_factory import START_UNIX_S, write_e4

SPIKE_S = 300.0  # the recording's second (from its earliest channel start) holding the one 150 bpm reading
CONFIG = "[audio]\nenabled = false\n[face]\nenabled = false\n[body]\nenabled = false\n"
VOICE_ONLY = "[face]\nenabled = false\n[body]\nenabled = false\n"


def _e4_with_a_spike(folder: Path) -> Path:
    """A 600 s E4 export whose HR.csv (starting 10 s after the others, as the E4 writes it) reads 150 bpm once, at
    SPIKE_S of the recording's clock."""
    e4 = write_e4(folder, duration_s=600.0)
    first, rate, *values = (e4 / "HR.csv").read_text().splitlines()
    values[int(round((START_UNIX_S + SPIKE_S - float(first)) * float(rate)))] = "150.00"
    (e4 / "HR.csv").write_text("\n".join([first, rate, *values]) + "\n")
    return e4


def _remuxed(src: Path, dst: Path, creation_time: str = "", live: bool = False) -> Path:
    """``src``'s packets in ``dst``, with a ``creation_time``, or written as a browser's MediaRecorder writes a WebM
    (``live``: no duration in its header)."""
    with av.open(str(src)) as given, av.open(str(dst), "w", format="matroska" if live else None,
                                             options={"live": "1"} if live else {}) as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        streams = {s.index: out.add_stream_from_template(s) for s in given.streams}
        for packet in given.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return dst


def _analyze(tmp_path: Path, media: Path, recording: Path, *options: str, config: str = VOICE_ONLY) -> int:
    """``emotrace analyze`` of ``media`` with ``--physio recording`` into tmp_path/out, under ``config``."""
    (tmp_path / "c.toml").write_text(config)
    return main(["analyze", str(media), "--out", str(tmp_path / "out"), "--config", str(tmp_path / "c.toml"),
                 "--physio", str(recording), *options])


def _tracks(tmp_path: Path) -> dict[str, dict]:
    """The tracks of tmp_path/out/timeline.json by name."""
    return {t["name"]: t for t in json.loads((tmp_path / "out" / "timeline.json").read_text())["tracks"]}


def _physio_windows(tmp_path: Path, media: Path, e4: Path, *options: str, config: str = VOICE_ONLY) -> list[dict]:
    assert _analyze(tmp_path, media, e4, *options, config=config) == 0
    return _tracks(tmp_path)["physio"]["windows"]


def _assert_spike_where_its_windows_are(windows: list[dict], offset_s: float) -> None:
    """Each shown window's centre is its recording window's centre plus the offset: the spike is in it exactly when
    its 30 s recording window holds SPIKE_S."""
    assert any(w["measurements"]["hr_max_bpm"] == pytest.approx(150.0) for w in windows)  # the spike is in the video
    for w in windows:
        centre_on_recording_s = (w["start_s"] + w["end_s"]) / 2 - offset_s
        holds = centre_on_recording_s - 15 <= SPIKE_S < centre_on_recording_s + 15
        assert (w["measurements"]["hr_max_bpm"] == pytest.approx(150.0)) == holds, (w["start_s"], w["end_s"])


@pytest.mark.parametrize("offset_s", [-287.3, -281.75])
def test_a_heart_rate_spike_lands_at_its_video_seconds_for_a_fractional_offset_given(tmp_path, offset_s):
    e4 = _e4_with_a_spike(tmp_path / "S99")
    media = write_media(tmp_path / "session.wav", tone(40.0, 16000), 16000, audio_codec="pcm_s16le")
    windows = _physio_windows(tmp_path, media, e4, f"--physio-offset={offset_s}", config=CONFIG)
    _assert_spike_where_its_windows_are(windows, offset_s)


def test_a_heart_rate_spike_lands_at_its_video_seconds_placed_by_both_wall_clocks_to_the_half_second(tmp_path):
    e4 = _e4_with_a_spike(tmp_path / "S99")  # starts at 2022-02-07T09:52:54Z
    plain = write_media(tmp_path / "plain.mkv", tone(40.0), video_codec="libx264", video_s=40.0)
    # the camera started 280.5 s after the wristband: the recording starts at -280.5 s on the video's clock
    video = _remuxed(plain, tmp_path / "session.mkv", creation_time="2022-02-07T09:57:34.500000Z")
    windows = _physio_windows(tmp_path, video, e4, config=VOICE_ONLY)
    _assert_spike_where_its_windows_are(windows, -280.5)


def test_a_webm_recorded_live_without_a_length_in_its_header_still_takes_its_physio_recording(tmp_path):
    # was refused: 'the video 0.0..0.0 s'; its track is cut where the voice was read to
    e4 = _e4_with_a_spike(tmp_path / "S99")
    plain = write_media(tmp_path / "plain.mkv", tone(40.0), video_codec="libx264", video_s=40.0)
    media = _remuxed(plain, tmp_path / "session.webm", live=True)
    windows = _physio_windows(tmp_path, media, e4, "--physio-offset=-280",
                              config=VOICE_ONLY)
    assert windows[0]["start_s"] == 0.0 and 39.0 < windows[-1]["end_s"] <= 40.1
    _assert_spike_where_its_windows_are(windows, -280.0)


def test_an_mp3_whose_length_ffmpeg_only_guesses_still_takes_its_physio_recording(tmp_path, ravdess_dir):
    # was refused: 'the video 0.0..0.0 s'
    from runtime.media import read_audio

    e4 = _e4_with_a_spike(tmp_path / "S99")
    clip = read_audio(next(ravdess_dir.glob("Actor_01/03-01-*.flac")), 48000)
    speech = np.tile(np.concatenate([clip, np.zeros(48000 * 2, dtype=clip.dtype)]), 10)[: 48000 * 40]
    media = write_media(tmp_path / "session.mp3", speech, audio_codec="libmp3lame")
    windows = _physio_windows(tmp_path, media, e4, "--physio-offset=-280")
    assert windows[0]["start_s"] == 0.0 and 39.0 < windows[-1]["end_s"] <= 40.1
    _assert_spike_where_its_windows_are(windows, -280.0)


def test_a_video_cut_short_gets_no_physio_windows_past_where_it_was_read(tmp_path):
    """docs/commands.md, Bad input: a file cut short has its tracks end where it was read to. The physio track was
    placed by the header's 40 s, past the 16 s read."""
    e4 = _e4_with_a_spike(tmp_path / "S99")
    video = cut_short(write_media(tmp_path / "session.mkv", tone(40.0), video_codec="libx264", video_s=40.0), 0.5)
    assert _analyze(tmp_path, video, e4, "--physio-offset=-280") == 0
    ends = {name: t["windows"][-1]["end_s"] for name, t in _tracks(tmp_path).items()}
    assert ends["audio"] < 30.0  # read to where it was cut
    assert ends["physio"] <= ends["audio"] + 15.0, ends  # half a physio window at most past what was read


def test_the_physio_tracks_gaps_are_on_the_video_clock_as_its_windows_are(tmp_path):
    """README: analyze --physio places the recording on the video's clock. The track's settings.gaps stayed on the
    recording's own clock (a 100-160 s gap shown there for a 40 s video placed at -90 s)."""
    rows = [f"{t / 4:.2f},{1.5 + 0.2 * np.sin(t / 40):.4f}" for t in range(4 * 600) if not 400 <= t < 640]
    recording = tmp_path / "rec.csv"
    recording.write_text("time_s,eda\n" + "\n".join(rows) + "\n")
    media = write_media(tmp_path / "session.wav", tone(40.0, 16000), 16000, audio_codec="pcm_s16le")
    assert _analyze(tmp_path, media, recording, "--physio-offset=-90", config=CONFIG) == 0
    assert _tracks(tmp_path)["physio"]["settings"]["gaps"] == {"eda": [[10.0, 70.0]]}  # was {"eda": [[100.0, 160.0]]}


def test_a_recording_placed_after_where_a_cut_video_was_read_is_refused_naming_both_spans(tmp_path, capsys):
    e4 = _e4_with_a_spike(tmp_path / "S99")
    video = cut_short(write_media(tmp_path / "session.mkv", tone(40.0), video_codec="libx264", video_s=40.0), 0.5)
    # its header's 40 s took the recording at +20 s; the file holds some 16 s (was: a physio track past them)
    assert _analyze(tmp_path, video, e4, "--physio-offset=20") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "overlaps the video too little for one physio window: its windows cover 30.0..40.0 s on the video clock, " \
           "the video as read 0.0..19.7 s" in err and "(given: recording starts at +20.000 s on the video clock)" in err
    assert not (tmp_path / "out").exists()


def test_a_refusal_after_a_cut_video_was_read_gives_both_spans_in_utc_where_wall_clocks_placed_it(tmp_path, capsys):
    e4 = _e4_with_a_spike(tmp_path / "S99")  # starts at 2022-02-07T09:52:54Z
    plain = write_media(tmp_path / "plain.mkv", tone(40.0), video_codec="libx264", video_s=40.0)
    # the camera started 20 s before the wristband: the recording at +20 s, past where the cut file ends
    video = cut_short(_remuxed(plain, tmp_path / "session.mkv", creation_time="2022-02-07T09:52:34Z"), 0.5)
    assert _analyze(tmp_path, video, e4) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "its windows cover 30.0..40.0 s on the video clock" in err
    assert "; in UTC its windows 2022-02-07T09:53:04Z..2022-02-07T09:53:14Z, the video 2022-02-07T09:52:34Z.." in err


def test_a_joined_transport_stream_keeps_physio_windows_past_its_first_recording(tmp_path):
    # its header gives the last recording's end alone (20 s of 40 s): the physio windows stopped there
    e4 = _e4_with_a_spike(tmp_path / "S99")
    first = write_media(tmp_path / "a.ts", tone(20.0), video_codec="libx264", video_s=20.0)
    second = write_media(tmp_path / "b.ts", tone(20.0, frequency_hz=440.0), video_codec="libx264", video_s=20.0)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    windows = _physio_windows(tmp_path, joined, e4, "--physio-offset=-280")
    assert windows[-1]["end_s"] > 39.0
    _assert_spike_where_its_windows_are(windows, -280.0)


def test_an_input_without_a_length_that_no_arm_reads_is_refused_beside_a_recording(tmp_path, capsys, monkeypatch):
    def no_physio_work(*_args, **_kwargs):
        raise AssertionError("the recording was read for an input it cannot be placed against")

    monkeypatch.setattr("runtime.arms.physio.arm.read_recording", no_physio_work)  # refused before any work
    # was: the physio windows over the whole recording, and the timeline giving the 40 s MP3 its 320 s
    media = write_media(tmp_path / "session.mp3", tone(40.0), audio_codec="libmp3lame")
    assert _analyze(tmp_path, media, _e4_with_a_spike(tmp_path / "S99"), "--physio-offset=-280", config=CONFIG) == 2
    assert (f"{media}: its header gives no length, and no arm here reads it to find its end: a recording given "
            "beside it cannot be placed against it (enable the audio, face or body arm)") in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
