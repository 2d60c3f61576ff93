import numpy as np
import pytest

from runtime.arms.face.observer import FaceObserver
from runtime.arms.video.detect import box_centre
from runtime.sources.video import VideoFrame
from tests.arms.face.video_factory import distant_face_frame

FACE_PX = 42  # a thirtieth of a 1280-px frame: someone about 4 m from a room camera


def found_near(observations, centre_px, tolerance_px=15.0):
    return [o for o in observations if np.hypot(*(box_centre(o.box) - np.asarray(centre_px))) < tolerance_px]


@pytest.mark.parametrize("centre_px", [(300, 200), (700, 500), (1100, 300)])
def test_a_face_a_thirtieth_of_the_frame_wide_is_found_and_read(centre_px):
    observer = FaceObserver(expression=None, iris=None)
    found = found_near(observer.process(VideoFrame(0.0, distant_face_frame(FACE_PX, centre_px))), centre_px)
    assert len(found) == 1 and found[0].presence >= 0.5
    assert found[0].measurements  # the face mesh read it too


def test_without_the_search_the_whole_frame_look_alone_misses_such_a_face():
    observer = FaceObserver(expression=None, iris=None, search_every_s=0.0)
    assert not observer.process(VideoFrame(0.0, distant_face_frame(FACE_PX, (700, 500))))


def test_a_small_face_found_once_is_followed_as_it_moves_between_searches():
    observer = FaceObserver(expression=None, iris=None, search_every_s=60.0)
    for step in range(6):
        centre_px = (500 + 12 * step, 400 - 6 * step)
        observations = observer.process(VideoFrame(0.2 * step, distant_face_frame(FACE_PX, centre_px)))
        assert len(found_near(observations, centre_px)) == 1, step
    followed = observer.tracker.people[found_near(observations, centre_px)[0].person_id - 1]
    assert followed.read_frames == 6 and observer.tracker.patient() == followed.person_id


def test_a_frame_small_enough_for_one_look_gets_no_other(monkeypatch):
    observer = FaceObserver(expression=None, iris=None)
    looks = []
    original = observer.detector.detect
    monkeypatch.setattr(observer.detector, "detect", lambda image: looks.append(image.shape) or original(image))
    observer.process(VideoFrame(0.0, distant_face_frame(30, (150, 100), width=280, height=210)))
    assert looks == [(210, 280, 3)]


def test_a_large_face_searched_square_by_square_stays_one_person():
    observer = FaceObserver(expression=None, iris=None)
    observations = observer.process(VideoFrame(0.0, distant_face_frame(600, (640, 360))))
    assert len(observations) == 1  # was: a square's find inside the face taken for a second person


def test_a_detection_the_face_mesh_never_read_is_not_looked_for_between_searches(monkeypatch):
    observer = FaceObserver(expression=None, iris=None, search_every_s=60.0)  # no search square in the 2nd frame
    image = distant_face_frame(250, (640, 360))
    meshes = []
    original_mesh = observer.landmarker.run
    monkeypatch.setattr(observer.landmarker, "run", lambda *args: meshes.append(original_mesh(*args)) or meshes[-1])
    observer.process(VideoFrame(0.0, image))
    assert any(m.presence < 0.5 for m in meshes)  # a search square's false find on the background (not reported)
    looks = []
    original = observer.detector.detect
    monkeypatch.setattr(observer.detector, "detect", lambda crop: looks.append(crop.shape) or original(crop))
    observer.process(VideoFrame(0.2, image))
    assert looks == [image.shape]  # the whole frame alone (was: a look around the false find every frame)


def test_a_false_box_around_a_small_face_is_nobody_and_never_reported_so_no_reader_sees_it():
    from runtime.arms.face.arm import chosen_people
    from runtime.arms.video.scan import VideoScan, faces_where_read

    observer = FaceObserver(expression=None, iris=None)
    observations = observer.process(VideoFrame(0.0, distant_face_frame(FACE_PX, (640, 15))))
    # the face alone: was also a large box the mesh did not read, as person 0, that every reader had to leave out
    assert [o.person_id for o in observations] == [1]
    assert len(observer.tracker.people) == 1  # was: two people, the false one numbered and counted
    assert chosen_people(VideoScan(faces=observations), "all") == [1]
    assert [o.person_id for o in faces_where_read(observations, observer.tracker)] == [1]  # what the body reads


@pytest.mark.parametrize(("width_px", "height_px"), [(854, 480), (720, 1280)])
def test_a_480p_or_portrait_frame_is_searched_for_a_distant_face(width_px, height_px):
    observer = FaceObserver(expression=None, iris=None)
    centre_px = (width_px * 0.3, height_px * 0.4)
    frame = distant_face_frame(FACE_PX, centre_px, width=width_px, height=height_px)
    assert len(found_near(observer.process(VideoFrame(0.0, frame)), centre_px)) == 1  # was (480p): no squares


def test_the_search_of_a_large_frame_costs_what_it_costs_at_1280_px(monkeypatch):
    observer = FaceObserver(expression=None, iris=None)
    looks = []
    original = observer.detector.detect
    monkeypatch.setattr(observer.detector, "detect", lambda crop: looks.append(crop.shape) or original(crop))
    observer.process(VideoFrame(0.0, np.zeros((2160, 3840, 3), np.uint8)))  # face.max_side_px raised to 4096
    assert len(looks) == 1 + 8  # the whole frame and eight squares (was: 1 + 72, squares of 480 px)


def searched_squares(monkeypatch, observer, frames):
    """The search squares each of ``frames`` ((t_s, image) pairs) looked at, as (x0, y0, side) per frame."""
    from runtime.arms.face import finding

    looks: list[tuple[int, int, int]] = []
    original = finding.detect_in_square
    monkeypatch.setattr(finding, "detect_in_square", lambda detector, image, square: looks.append(
        (square.x0_px, square.y0_px, square.side_px)) or original(detector, image, square))
    per_frame = []
    for t_s, image in frames:
        looks.clear()
        observer.process(VideoFrame(t_s, image))
        per_frame.append(list(looks))
    return per_frame


@pytest.mark.parametrize("fps", [0.5, 3.0, 5.0, 12.0])
def test_the_search_is_spread_over_the_frames_of_its_period_and_covers_the_frame_in_each(monkeypatch, fps):
    observer = FaceObserver(expression=None, iris=None)  # a search every 1 s
    image = np.zeros((720, 1280, 3), np.uint8)
    times_s = [k / fps for k in range(int(4 * fps) + 1)]
    per_frame = searched_squares(monkeypatch, observer, [(t_s, image) for t_s in times_s])
    assert len(set(per_frame[0])) == 8  # the first frame, before the pace is known: the whole round
    for looks in per_frame[1:]:  # after it: the frame's share of the round, not all of it
        assert len(looks) <= int(np.ceil(8 * min(1.0, 1 / fps))), looks  # was: 8 in one frame a second
    for square in per_frame[0]:  # each square searched again within the period (or the next frame, if later)
        searched_s = [t_s for t_s, looks in zip(times_s, per_frame, strict=True) if square in looks]
        assert max(np.diff(searched_s + [times_s[-1]])) <= max(1.0, 1 / fps) + 1e-9, (square, searched_s)


@pytest.mark.parametrize("centre_px", [(200, 150), (1100, 600)])
def test_a_distant_face_coming_into_view_between_searches_is_found_within_a_period(centre_px):
    import cv2
    from skimage import data

    observer = FaceObserver(expression=None, iris=None)
    empty = cv2.resize(data.coffee(), (1280, 720), interpolation=cv2.INTER_AREA)
    appears_s = 1.4
    found_s = None
    for k in range(16):
        t_s = k / 5
        image = distant_face_frame(FACE_PX, centre_px) if t_s >= appears_s else empty
        if found_near(observer.process(VideoFrame(t_s, image)), centre_px) and found_s is None:
            found_s = t_s
    assert found_s is not None and appears_s <= found_s <= appears_s + 1.0 + 1e-9



def test_three_squares_at_three_frames_a_second_are_each_searched_once_a_second(monkeypatch):
    # each frame owes a third of the three squares: three such shares make one whole square, not 0.999...
    observer = FaceObserver(expression=None, iris=None)
    image = np.zeros((480, 1024, 3), np.uint8)  # three search squares
    per_frame = searched_squares(monkeypatch, observer, [(k / 3, image) for k in range(13)])
    assert len(set(per_frame[0])) == 3 and all(len(looks) == 1 for looks in per_frame[1:]), per_frame


class MissingDetector:
    """A detector whose whole-frame look finds the boxes given (none in a square)."""

    input_px, iou_threshold = 192, 0.3

    def __init__(self, boxes=()):
        self.boxes = boxes

    def detect(self, image):
        from runtime.arms.video.detect import Detection

        if image.shape[:2] != (720, 1280):
            return []
        return [Detection(np.array(box, dtype=float), np.zeros((6, 2)), 0.9) for box in self.boxes]


def squares_looked_in(monkeypatch, finder, people):
    from runtime.arms.face import finding

    squares = []
    monkeypatch.setattr(finding, "detect_in_square", lambda detector, image, square: squares.append(square) or [])
    finder.find(np.zeros((720, 1280, 3), np.uint8), 1.0, people)
    return squares


def test_a_missed_face_too_small_for_the_whole_frame_look_is_looked_for_in_a_square_of_four_face_sizes(monkeypatch):
    from runtime.arms.face.finding import FaceFinder
    from runtime.arms.face.tracking import Person
    from runtime.arms.video.detect import Square

    def person(person_id, x0, size):
        return Person(person_id, np.array([x0, 300.0, x0 + size, 300.0 + size]), last_seen_s=0.8)

    # at 1280 px the whole-frame look finds faces of about 107 px or more reliably
    people = [person(1, 200.0, 30.0), person(2, 600.0, 80.0), person(3, 900.0, 150.0)]
    squares = squares_looked_in(monkeypatch, FaceFinder(MissingDetector(), search_every_s=0.0), people)
    # a 30-px face: a square of the detector's own input (4 faces would be 120 px); an 80-px face: 320 px; a face
    # the whole-frame look finds reliably is left to it
    assert squares == [Square(119, 219, 192), Square(480, 180, 320)]


def test_a_small_face_the_whole_frame_look_found_is_not_looked_for_again(monkeypatch):
    from runtime.arms.face.finding import FaceFinder
    from runtime.arms.face.tracking import Person

    box = (600.0, 300.0, 680.0, 380.0)
    people = [Person(1, np.array(box), last_seen_s=0.8)]
    assert squares_looked_in(monkeypatch, FaceFinder(MissingDetector([box]), search_every_s=0.0), people) == []
    assert len(squares_looked_in(monkeypatch, FaceFinder(MissingDetector(), search_every_s=0.0), people)) == 1
