from dataclasses import replace

import numpy as np
import pytest

from runtime.arms.face.settings import FaceSettings
from runtime.arms.video import scan as video_scan
from runtime.arms.video.scan import VideoScan, make_observers, scan_frames, video_duration_s, video_sample_fps
from runtime.config import load_settings
from runtime.pipeline import analyze_file
from runtime.sources.video import FileVideoSource, FrameStats, VideoFrame
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



def test_a_picture_not_read_to_its_end_ends_a_sampling_period_after_its_last_frame_not_at_its_headers_length():
    from runtime.sources.video import FrameStats

    read = [0.0, 2.8]  # frames sampled at 5 fps from a file whose header says 6 s
    cut = VideoScan(frame_times_s=read, stats=FrameStats(stopped_reason="cut short: the video ends at 2.8 s"))
    assert video_duration_s(cut, 6.0, sample_fps=5.0) == pytest.approx(3.0)  # was: 6.0, the header's
    assert video_duration_s(VideoScan(frame_times_s=read), 6.0, 5.0, read_to_end=False) == pytest.approx(3.0)
    assert video_duration_s(cut, 2.9, sample_fps=5.0) == 2.9  # never past the recording's own end
    assert video_duration_s(VideoScan(frame_times_s=read), 6.0, sample_fps=5.0) == 6.0  # read to its end

def test_an_error_in_the_words_of_an_empty_video_stream_is_not_taken_for_one(tmp_path, monkeypatch):
    from runtime.errors import InputError
    from runtime.media import NO_VIDEO_FRAMES, probe
    from runtime.pipeline import AnalysisRequest
    from tests.media_factory import tone, write_media

    video = write_media(tmp_path / "v.mkv", tone(2.0, 16000), 16000, "pcm_s16le", video_codec="mpeg4", video_s=1.0)
    request = AnalysisRequest(video, probe(video), load_settings(None))  # the voice reads the sound beside it
    for error, empty in ((InputError(video, NO_VIDEO_FRAMES), False), (None, True)):
        if error is None:  # the empty stream's own error (imported here: the words' case stands without it)
            from runtime.media import NoVideoFrames

            error = NoVideoFrames(video)

        def failing_scan(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(video_scan, "scan_video", failing_scan)
        request.extras.clear()
        if empty:
            assert video_scan.shared_scan(request) is None  # the face and body left out, the voice analysed
            continue
        # was: taken for an empty stream by its words, the face and body left out where the scan failed
        with pytest.raises(InputError) as raised:
            video_scan.shared_scan(request)
        assert raised.value is error

# A distant patient's face, and a large box around it the face mesh did not read, the face at its top (as the
# shipped detector gives around a 42-px face at a frame's top edge): the box's centre lies nearer another
# person's head than the patient's, and the box reaches that person's nose.
PATIENT_FACE = np.array([300.0, 100.0, 340.0, 140.0])
FALSE_BOX = np.array([100.0, 80.0, 560.0, 540.0])
BODIES = {"patient": (np.array([320.0, 125.0]), np.array([320.0, 300.0])),  # nose, hip centre
          "other": (np.array([470.0, 330.0]), np.array([470.0, 560.0]))}  # no face read: their back to the camera


class ScriptedFaces:
    """The face arm, reduced to each frame's boxes and whether the mesh read each (identities from the tracker)."""

    expression = None  # nothing deferred: the scan asks for no pending crops

    def __init__(self, script):
        from runtime.arms.face.tracking import IdentityTracker

        self.script, self.tracker = script, IdentityTracker()

    def process(self, frame, defer_expression=False):
        from runtime.arms.face.observer import FaceObservation

        boxes, read = self.script[int(frame.image[0, 0, 0])]
        ids = self.tracker.assign(boxes, frame.t_s, read)
        return [FaceObservation(frame.t_s, person_id, 0.9, 0.9 if was_read else 0.05, float(box[2] - box[0]),
                                box=box) for box, was_read, person_id in zip(boxes, read, ids, strict=True)]

    def models(self):
        return {}


def scripted_bodies(bodies_by_frame):
    """A body observer whose detector finds the frame's listed bodies and whose pose model reads the body whose
    hips a crop is centred on (none when no listed body is there)."""
    from runtime.arms.body.pose import BodyObserver
    from runtime.arms.video.detect import Detection
    from runtime.arms.video.landmarks import Landmarks

    def pose(name):
        nose, hips = BODIES[name]
        points = np.zeros((35, 3))
        points[0, :2], points[33, :2], points[34, :2] = nose, hips, hips - [0.0, 250.0]
        return points

    class Detector:
        def identity(self):
            return {}

        def detect(self, image):
            return [Detection(np.r_[BODIES[n][0] - 30, BODIES[n][0] + 30], pose(n)[[33, 34, 33, 34], :2], 0.9)
                    for n in bodies_by_frame[int(image[0, 0, 0])]]

    class Landmarker:
        roi_scale = 1.25

        def identity(self):
            return {}

        def run(self, image, roi):
            here = [n for n in bodies_by_frame[int(image[0, 0, 0])] if np.hypot(*(BODIES[n][1] - roi.centre)) < 20]
            points = pose(here[0]) if here else np.zeros((35, 3))
            return Landmarks(points, 0.9 if here else 0.0, roi, np.ones(35))

    observer = BodyObserver()
    observer.detector, observer.landmarker = Detector(), Landmarker()
    return observer


def scripted_scan(faces_by_frame, bodies_by_frame):

    frames = numbered_frames(len(faces_by_frame))
    return scan_frames(frames, ScriptedFaces(faces_by_frame), scripted_bodies(bodies_by_frame))


def whose(observation):
    return next(name for name, (nose, _) in BODIES.items() if np.allclose(observation.points[0, :2], nose))


def test_a_faceless_body_taken_before_the_patients_face_was_read_is_let_go_once_it_is():
    faces = [([], [])] + [([PATIENT_FACE], [True])] * 4  # the patient's face missed in the first frame alone
    scan = scripted_scan(faces, [["other", "patient"]] * 5)  # the other (their back to the camera) listed first
    # was: the other's pose in every frame, which the body track, one person seen, read as the patient's
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("other", None)] + [("patient", 1)] * 4


def test_a_false_box_carrying_the_patients_number_does_not_send_the_body_to_someone_else():
    faces = [([PATIENT_FACE], [True]), ([FALSE_BOX], [False])]  # the patient's face missed in the second frame
    scan = scripted_scan(faces, [[], ["patient", "other"]])  # the patient's body found from the second frame
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("patient", 1)]  # was: the other's pose, as the patient's


def test_a_false_box_carrying_the_patients_number_does_not_make_someone_elses_pose_the_patients():
    faces = [([PATIENT_FACE], [True]), ([FALSE_BOX], [False])]
    scan = scripted_scan(faces, [["other"], ["other"]])  # only the other person's body is found, and followed
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("other", None), ("other", None)]  # was: then 1


def test_a_patient_turned_away_keeps_their_pose():
    turned = PATIENT_FACE + [4.0, 2.0, 4.0, 2.0]  # their head, the face mesh finding no face on it
    scan = scripted_scan([([PATIENT_FACE], [True]), ([turned], [False])], [["patient", "other"]] * 2)
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("patient", 1), ("patient", 1)]


def test_a_video_stream_without_frames_loses_only_the_video_arms_that_are_on(tmp_path, monkeypatch):
    from runtime.media import NoVideoFrames, probe
    from runtime.pipeline import AnalysisRequest
    from tests.media_factory import tone, write_media

    video = write_media(tmp_path / "v.mkv", tone(2.0, 16000), 16000, "pcm_s16le", video_codec="mpeg4", video_s=1.0)

    def empty_stream(*args, **kwargs):
        raise NoVideoFrames(video)

    monkeypatch.setattr(video_scan, "scan_video", empty_stream)
    for body_on, without in ((True, "the face and body"), (False, "the face")):
        request = AnalysisRequest(video, probe(video), load_settings(None, {"body.enabled": body_on}))
        assert video_scan.shared_scan(request) is None
        assert [lost for _, lost in request.lost] == [without]  # the line: '...; analysed without the face'


def test_the_face_sections_search_and_smallest_face_reach_the_scans_observer():
    from runtime.sources.video import VideoFrame
    from tests.arms.face.video_factory import distant_face_frame

    frame = VideoFrame(0.0, distant_face_frame(42, (700, 500)))  # a face a thirtieth of the frame wide
    geometry_only = {"model": "", "iris": ""}
    assert make_observers(FaceSettings(**geometry_only))[0].process(frame)  # found by the search of squares
    assert not make_observers(FaceSettings(**geometry_only, search_every_s=0.0))[0].process(frame)
    assert not make_observers(FaceSettings(**geometry_only, min_face_px=60))[0].process(frame)


def test_the_body_nearest_the_patients_face_is_acquired_not_the_one_the_detector_lists_first():
    scan = scripted_scan([([PATIENT_FACE], [True])], [["other", "patient"]])
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("patient", 1)]


def test_a_pose_whose_upper_body_is_barely_visible_is_no_pose_and_the_next_frame_acquires_anew():
    bodies = scripted_bodies([["patient"]] * 3)
    run, acquired = bodies.landmarker.run, []
    faint = np.ones(35)
    faint[:25] = 0.4  # the upper body's points seen at 0.4 on average: under the 0.5 a pose needs
    bodies.landmarker.run = lambda image, roi: replace(run(image, roi), visibility=faint) if int(
        image[0, 0, 0]) == 1 else run(image, roi)
    detect = bodies.detector.detect
    bodies.detector.detect = lambda image: acquired.append(int(image[0, 0, 0])) or detect(image)
    frames = numbered_frames(3)
    scan = scan_frames(frames, ScriptedFaces([([PATIENT_FACE], [True])] * 3), bodies)
    assert [o.t_s for o in scan.bodies] == [0.0, 0.4] and acquired == [0, 1, 2]


def test_a_pose_followed_on_from_the_patients_stays_theirs_in_a_frame_where_no_face_is_found():
    scan = scripted_scan([([PATIENT_FACE], [True]), ([], [])], [["patient"], ["patient"]])  # their head bowed
    assert [(whose(o), o.person_id) for o in scan.bodies] == [("patient", 1), ("patient", 1)]


def numbered_frames(n):
    """``n`` frames 0.2 s apart, each holding its own number in every pixel, as ``ScriptedFaces`` reads it."""
    return [VideoFrame(0.2 * k, np.full((720, 1280, 3), k, np.uint8)) for k in range(n)]


def test_a_live_scan_so_far_carries_the_patient_each_frame():
    seen = []
    faces = ScriptedFaces([([PATIENT_FACE], [True])] * 2)
    scan_frames(numbered_frames(2), faces, None, on_frame=lambda frame, so_far: seen.append(so_far.patient_id))
    assert seen == [1, 1]  # the live readout says whose face it follows from the first frame on


def test_the_scan_counts_everyone_seen_and_keeps_the_sources_frame_counts():
    other = PATIENT_FACE + [400.0, 0.0, 400.0, 0.0]
    stats = FrameStats()
    scan = scan_frames(numbered_frames(2), ScriptedFaces([([PATIENT_FACE, other], [True, True])] * 2), None, stats)
    assert scan.n_people == 2
    assert scan.stats is stats  # the decoder's counts (corrupt, damaged, stopped early) reach the arms


def test_a_file_scan_decodes_at_the_rate_and_size_its_settings_say(monkeypatch):

    opened = []

    class RecordedSource:
        def __init__(self, path, sample_fps, max_side_px):
            opened.append((sample_fps, max_side_px))
            self.stats = FrameStats()

        def frames(self):
            return iter([])

    monkeypatch.setattr(video_scan, "FileVideoSource", RecordedSource)
    monkeypatch.setattr(video_scan, "make_observers", lambda face, body, backend: (None, None))
    video_scan.scan_video("v.mp4", FaceSettings(max_side_px=640), None, sample_fps=2.0)
    video_scan.scan_video("v.mp4", None, None, sample_fps=0.5)  # body only: the face's default frame size
    assert opened == [(2.0, 640), (0.5, FaceSettings().max_side_px)]


def test_the_face_sections_expression_threads_reach_the_observer(monkeypatch):
    import inspect

    from runtime.arms.face.observer import FaceObserver

    made = []
    monkeypatch.setattr(video_scan, "FaceObserver", lambda *args, **kwargs: made.append(
        inspect.signature(FaceObserver).bind(*args, **kwargs).arguments))
    video_scan.make_observers(FaceSettings(expression_threads=3, iris="iris-landmarks"), None)
    assert made[0]["expression_threads"] == 3 and made[0]["iris"] == "iris-landmarks"
    video_scan.make_observers(FaceSettings(iris=""), None)
    assert made[1]["iris"] is None  # "" = no gaze measurements


def test_a_video_without_frames_and_nothing_else_to_read_is_refused(tmp_path, monkeypatch):
    # the face and body lost is said in one line only where another arm reads the input (its sound); a picture
    # alone with no frames is the NoVideoFrames error, not an empty analysis
    from runtime.media import NoVideoFrames, probe
    from runtime.pipeline import AnalysisRequest

    video = write_video(tmp_path / "v.mp4", 1.0)  # a picture, no sound

    def empty_stream(*args, **kwargs):
        raise NoVideoFrames(video)

    monkeypatch.setattr(video_scan, "scan_video", empty_stream)
    request = AnalysisRequest(video, probe(video), load_settings(None))
    with pytest.raises(NoVideoFrames):
        video_scan.shared_scan(request)
    assert request.lost == []
