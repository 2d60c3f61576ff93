"""The summary line a clinician reads first for each track: its windows, how many of them hold evidence (a quality
above 0), the frames a camera's arm sampled and dropped, and how its input ended (the voice's "complete" too, or why
it stopped early)."""

from runtime.timeline import Timeline, summary_lines
from runtime.track import Track, Window

EVEN = [1 / 8] * 8


def _timeline(*tracks: Track) -> Timeline:
    return Timeline("x.wav", 4.0, list(tracks))


def test_only_windows_of_quality_above_zero_count_as_with_evidence():
    audio = Track("audio", windows=[Window(0.0, 2.0, EVEN, 0.6), Window(2.0, 4.0, None, 0.0, "no speech")])
    assert summary_lines(_timeline(audio)) == ["audio: 2 windows, 1 with evidence"]


def test_the_voice_says_its_input_was_read_to_the_end_or_why_it_stopped():
    complete = Track("audio", windows=[Window(0.0, 2.0, EVEN, 0.6)], settings={"status": "complete"})
    stopped = Track("audio", windows=[Window(0.0, 2.0, EVEN, 0.6)],
                    settings={"status": "stopped early: the microphone stalled"})
    assert summary_lines(_timeline(complete)) == ["audio: 1 windows, 1 with evidence (complete)"]
    assert summary_lines(_timeline(stopped)) == [
        "audio: 1 windows, 1 with evidence (stopped early: the microphone stalled)"]


def test_a_camera_track_says_its_frames_and_why_its_stream_stopped():
    face = Track("face", windows=[Window(0.0, 2.0, EVEN, 0.6)],
                 settings={"frames": {"sampled": 20, "dropped": 3, "stopped_reason": "camera stalled"}})
    assert summary_lines(_timeline(face)) == [
        "face: 1 windows, 1 with evidence; 20 frames sampled, 3 dropped to keep up (camera stalled)"]
