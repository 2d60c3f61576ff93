import numpy as np
import pytest

from runtime.arms.video.detect import (
    Detection,
    Square,
    box_iou,
    covering_squares,
    detect_in_square,
    merge_detections,
    non_max_suppression,
    square_around,
)


def test_search_squares_hold_every_object_up_to_the_overlap_whole_in_one_of_them():
    width_px, height_px, side_px, overlap_px = 1280, 720, 480, 107
    squares = covering_squares(width_px, height_px, side_px, overlap_px)
    assert all(s.side_px == side_px and s.x0_px >= 0 and s.y0_px >= 0 for s in squares)
    assert all(s.x0_px + side_px <= width_px and s.y0_px + side_px <= height_px for s in squares)
    for x0 in range(0, width_px - overlap_px + 1, 7):
        for y0 in range(0, height_px - overlap_px + 1, 7):
            assert any(s.x0_px <= x0 and x0 + overlap_px <= s.x0_px + side_px
                       and s.y0_px <= y0 and y0 + overlap_px <= s.y0_px + side_px for s in squares), (x0, y0)


def test_a_square_that_would_be_the_whole_frame_or_wider_than_its_short_side_is_none():
    assert covering_squares(480, 480, 480, 50) == []
    assert covering_squares(1280, 720, 800, 50) == []
    assert covering_squares(1280, 720, 480, 480) == []
    assert covering_squares(854, 480, 480, 71) == [Square(0, 0, 480), Square(374, 0, 480)]  # a 480p room camera


def test_a_square_around_a_point_near_the_corner_is_moved_inside_the_frame():
    assert square_around(np.array([10.0, 700.0]), 300, 1280, 720) == Square(0, 420, 300)
    assert square_around(np.array([640.0, 360.0]), 2000, 1280, 720) == Square(280, 0, 720)


class FixedDetector:
    """Returns the same boxes, in the coordinates of whatever crop it is given."""

    def __init__(self, boxes):
        self.boxes = boxes
        self.shapes = []

    def detect(self, image):
        self.shapes.append(image.shape[:2])
        return [Detection(np.array(box, dtype=float), np.zeros((6, 2)), 0.9) for box in self.boxes]


def test_detections_in_a_square_come_back_in_frame_pixels_without_those_its_inner_edges_cut():
    image = np.zeros((720, 1280, 3), np.uint8)
    inside, cut_by_the_right_edge = (100, 100, 140, 140), (450, 200, 480, 230)
    found = detect_in_square(FixedDetector([inside, cut_by_the_right_edge]), image, Square(400, 0, 480))
    assert [list(d.box) for d in found] == [[500, 100, 540, 140]]
    assert found[0].keypoints[0].tolist() == [400, 0]


def test_a_box_at_a_side_the_frame_itself_ends_is_kept():
    image = np.zeros((720, 1280, 3), np.uint8)
    at_the_frames_right_edge = (440, 200, 480, 240)
    found = detect_in_square(FixedDetector([at_the_frames_right_edge]), image, Square(800, 240, 480))
    assert [list(d.box) for d in found] == [[1240, 440, 1280, 480]]


def _detection(box, score):
    return Detection(np.array(box, dtype=float), np.zeros((6, 2)), score)


def test_two_looks_boxing_one_moving_face_with_an_iou_under_the_threshold_merge_into_the_better():
    # a face walking out of view, boxed by the whole-frame look and by the look that follows it
    whole_frame, followed = _detection((609, 143, 645, 179), 0.72), _detection((599, 131, 634, 166), 0.52)
    assert float(box_iou(whole_frame.box, followed.box[None])[0]) < 0.3
    assert merge_detections([followed, whole_frame], 0.3) == [whole_frame]  # was: both, two people


def test_faces_side_by_side_and_a_large_box_around_a_small_face_stay_apart():
    left, right = _detection((100, 100, 150, 150), 0.9), _detection((130, 100, 180, 150), 0.8)  # IoU 0.25
    assert merge_detections([left, right], 0.3) == [left, right]
    small, around = _detection((620, 0, 662, 42), 0.6), _detection((500, 30, 800, 330), 0.9)  # not its centre (y 21)
    assert merge_detections([small, around], 0.3) == [around, small]


def test_a_detections_size_is_the_longer_side_of_its_box():
    # face.min_face_px and face_size_px are the box's longer side (docs/face-body.md, section 2)
    assert _detection((10, 20, 40, 40), 0.9).size_px == 30.0
    assert _detection((10, 20, 30, 60), 0.9).size_px == 40.0


def test_two_equal_boxes_half_over_one_another_overlap_by_a_third():
    assert float(box_iou(np.array([0.0, 0.0, 100.0, 100.0]), np.array([[50.0, 0.0, 150.0, 100.0]]))[0]) == (
        pytest.approx(1 / 3))
    assert float(box_iou(np.array([0.0, 0.0, 100.0, 100.0]), np.array([[0.0, 0.0, 100.0, 100.0]]))[0]) == 1.0


def test_a_small_face_scored_above_a_large_box_around_it_stays_apart_from_it_too():
    # the large box holds the face's centre, the face not the box's: two objects, whichever is scored higher
    small, around = _detection((620, 0, 662, 42), 0.9), _detection((500, 10, 800, 330), 0.6)
    assert all(around.box[:2] <= small.center) and all(small.center <= around.box[2:])  # it holds the face's centre
    assert merge_detections([around, small], 0.3) == [small, around]
    small_lower, around_higher = _detection(small.box, 0.6), _detection(around.box, 0.9)
    assert merge_detections([small_lower, around_higher], 0.3) == [around_higher, small_lower]


def test_a_crops_depth_comes_back_to_image_pixels_scaled_as_its_x_is():
    from runtime.arms.video.detect import Roi

    roi = Roi(np.array([200.0, 200.0]), 400.0, np.array([1.0, 0.0]))  # a 400-px region read as a 100-px crop
    back = roi.to_image(np.array([[50.0, 50.0, 0.0], [60.0, 50.0, 10.0]]), 100)
    assert back[:, :2].ravel().tolist() == pytest.approx([200.0, 200.0, 240.0, 200.0])
    assert back[1, 2] == pytest.approx(back[1, 0] - back[0, 0])  # 10 crop px of depth: 40 image px, as x


def test_the_keypoints_of_a_face_on_a_wide_frame_lie_in_its_box_where_its_eyes_are():
    # the frame is letterboxed into the detector's square: boxes and keypoints come back from it alike (the pose
    # detector's keypoints place the first crop of a body)
    from runtime.arms.video.detect import SsdDetector
    from tests.arms.face.video_factory import distant_face_frame

    face = SsdDetector("face-detector").detect(distant_face_frame(200, (900, 300)))[0]
    x0, y0, x1, y1 = face.box
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    assert x0 < right_eye[0] < left_eye[0] < x1  # the subject's right eye on the image's left
    assert y0 < right_eye[1] < (y0 + y1) / 2 and y0 < left_eye[1] < (y0 + y1) / 2  # in the upper half of the face


def test_two_boxes_overlapping_by_exactly_the_threshold_are_one_object():
    # the card's iou_threshold is where two boxes become one ("at or above"): a box half the other's is IoU 0.5
    boxes = np.array([[0.0, 0.0, 100.0, 100.0], [0.0, 0.0, 100.0, 50.0]])
    assert float(box_iou(boxes[0], boxes[1:])[0]) == 0.5
    assert non_max_suppression(boxes, np.array([0.6, 0.9]), 0.5) == [1]
    assert non_max_suppression(boxes, np.array([0.6, 0.9]), 0.51) == [1, 0]


def test_a_box_at_the_frames_left_or_top_edge_is_kept_by_the_square_that_begins_there():
    image = np.zeros((720, 1280, 3), np.uint8)
    at_the_left_and_top = (0, 0, 40, 40)  # a face cut by the frame itself, not by the square
    found = detect_in_square(FixedDetector([at_the_left_and_top]), image, Square(0, 0, 480))
    assert [list(d.box) for d in found] == [[0, 0, 40, 40]]


def test_a_box_at_the_frames_bottom_edge_is_kept_by_the_square_that_ends_there():
    image = np.zeros((720, 1280, 3), np.uint8)
    at_the_bottom = (200, 440, 240, 480)
    found = detect_in_square(FixedDetector([at_the_bottom]), image, Square(400, 240, 480))
    assert [list(d.box) for d in found] == [[600, 680, 640, 720]]


@pytest.mark.parametrize(("face_px", "centre_px"), [(200, (900, 300)), (120, (300, 400)), (300, (640, 360))])
def test_a_faces_box_is_centred_on_the_face_across_a_wide_frame(face_px, centre_px):
    # anchors sit at their cells' centres: at a cell's corner every box and keypoint moves half a cell (2 of the
    # detector's 192 px, 13 px of a 1280-px frame) up and left, and the face crop with it
    from runtime.arms.video.detect import SsdDetector
    from tests.arms.face.video_factory import distant_face_frame

    face = SsdDetector("face-detector").detect(distant_face_frame(face_px, centre_px))[0]
    assert abs(face.center[0] - centre_px[0]) < 6  # 2.1 px at most with centred anchors
    assert -1 < face.center[1] - centre_px[1] < 11  # 2.6 to 8.4 px: the photograph's face box sits a little high
