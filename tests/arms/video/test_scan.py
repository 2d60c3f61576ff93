import numpy as np
import pytest

from runtime.arms.face.settings import FaceSettings
from runtime.arms.video import scan as video_scan
from runtime.arms.video.scan import VideoScan, make_observers, scan_frames, video_duration_s, video_sample_fps
from runtime.config import load_settings
from runtime.pipeline import analyze_file
from runtime.sources.video import FileVideoSource
from tests.arms.face.video_factory import write_video


def test_with_both_video_arms_on_the_video_is_decoded_once_and_read_by_both(tmp_path, monkeypatch):
    decodes = []

    class CountedSource(FileVideoSource):
        def frames(self):
            decodes.append(self.path)
            return super().frames()

    monkeypatch.setattr(video_scan, "FileVideoSource", CountedSource)
    video = write_video(tmp_path / "v.mp4", 2.0)
    timeline = analyze_file(video, tmp_path / "out", load_settings(None, {"fusion.enabled": False}))
    assert timeline.track("face").windows and timeline.track("body").windows
    assert len(decodes) == 1  # each arm scanning on its own would decode the video twice


def test_the_face_arms_rate_samples_the_video_when_it_is_on_else_the_body_arms():
    both = load_settings(None, {"face.sample_fps": 2.0, "body.sample_fps": 7.0})
    body_only = load_settings(None, {"face.enabled": False, "face.sample_fps": 2.0, "body.sample_fps": 7.0})
    assert video_sample_fps(both) == 2.0 and video_sample_fps(body_only) == 7.0


def test_a_file_scan_runs_expression_beside_the_frames_and_gives_what_a_frame_by_frame_scan_gives(tmp_path):
    video = write_video(tmp_path / "short.mp4", 3.0)

    def scan(on_frame):
        faces, _ = make_observers(FaceSettings(), None)
        return scan_frames(FileVideoSource(video).frames(), faces, on_frame=on_frame)

    deferred = scan(None)  # file mode: the expression worker
    step_by_step = scan(lambda frame, so_far: None)  # live mode: each frame complete before the next
    found = [o for o in deferred.faces if o.confidence > 0]
    assert found and all(o.probs is not None for o in found)
    assert deferred.seconds["expression"] > 0 and "expression" not in step_by_step.seconds
    assert len(deferred.faces) == len(step_by_step.faces)
    for a, b in zip(deferred.faces, step_by_step.faces, strict=True):
        assert (a.probs is None) == (b.probs is None)
        if a.probs is not None:
            assert np.allclose(a.probs, b.probs, atol=1e-5)


def test_an_error_in_the_expression_worker_reaches_the_caller(tmp_path):
    faces, _ = make_observers(FaceSettings(), None)

    def broken(crops):
        raise RuntimeError("expression model failed")

    faces.fill_expressions = broken
    with pytest.raises(RuntimeError, match="expression model failed"):
        scan_frames(FileVideoSource(write_video(tmp_path / "short.mp4", 1.0)).frames(), faces)


def test_the_video_duration_is_the_containers_however_slowly_frames_are_sampled():
    late_frame = VideoScan(frame_times_s=[0.0, 39.9])
    assert video_duration_s(late_frame, 40.0, sample_fps=0.1) == 40.0  # was: 49.9, ten seconds past the video
    assert video_duration_s(VideoScan(frame_times_s=[0.0, 41.0]), 40.0, sample_fps=5.0) == 41.0  # frames run past
    assert video_duration_s(late_frame, 0.0, sample_fps=5.0) == pytest.approx(40.1)  # no duration: the period after
