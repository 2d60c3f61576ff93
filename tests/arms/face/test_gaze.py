"""Gaze from the iris model: iris centres on a real photograph, eyes moved inside it, and the geometry."""

import cv2
import numpy as np
import pytest

from runtime.arms.face.geometry import (
    EYEBALL_RADIUS_EYE_WIDTHS,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    frame_measurements,
    gaze_measurements,
)
from runtime.arms.face.iris import IrisLandmarker
from runtime.arms.video.detect import SsdDetector
from runtime.arms.video.landmarks import CropLandmarker, face_roi
from tests.arms.face.video_factory import astronaut, with_irises_moved


@pytest.fixture(scope="module")
def models():
    return SsdDetector("face-detector"), CropLandmarker("face-landmarks"), IrisLandmarker()


def gaze_of(image: np.ndarray, models) -> tuple[dict, np.ndarray, np.ndarray]:
    detector, mesh, iris = models
    points = mesh.run(image, face_roi(detector.detect(image)[0], mesh.roi_scale)).points
    centres = iris.centres(image, points)
    return gaze_measurements(points, centres), points, centres


def test_the_astronaut_looking_at_the_camera_has_her_irises_mid_eye(models):
    for image in (astronaut(), np.ascontiguousarray(astronaut()[:, ::-1])):  # as taken, and mirrored
        gaze, points, centres = gaze_of(image, models)
        assert abs(gaze["iris_offset_x"]) < 0.05 and abs(gaze["iris_offset_y"]) < 0.1
        assert abs(gaze["gaze_yaw_deg"]) < 8.0
        # each centre lies between its own eye's corners
        for centre, (a, b) in zip(centres, ((RIGHT_EYE_OUTER, RIGHT_EYE_INNER), (LEFT_EYE_INNER, LEFT_EYE_OUTER)),
                                  strict=True):
            assert min(points[a, 0], points[b, 0]) < centre[0] < max(points[a, 0], points[b, 0])


@pytest.mark.parametrize("scale", [1.0, 0.3])  # eyes about 20 px wide, and about 6 px
def test_irises_moved_right_inside_the_eyes_turn_the_gaze_right(models, scale):
    _, _, centres = gaze_of(astronaut(), models)

    def seen(image: np.ndarray) -> dict:
        return gaze_of(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), models)[0]

    gaze, left, right = (seen(with_irises_moved(astronaut(), centres, shift)) for shift in (0, -3, 3))
    assert left["iris_offset_x"] < gaze["iris_offset_x"] - 0.04 < right["iris_offset_x"] - 0.08
    assert left["gaze_yaw_deg"] < gaze["gaze_yaw_deg"] - 5.0 < right["gaze_yaw_deg"] - 10.0


def test_eyes_too_small_to_read_give_no_gaze(models):
    _, points, centres = gaze_of(astronaut(), models)
    assert all(np.isnan(v) for v in gaze_measurements(points * 0.2, centres * 0.2).values())


def test_gaze_adds_the_eyes_turn_to_the_head_pose(models):
    _, points, _ = gaze_of(astronaut(), models)
    eyes = ((RIGHT_EYE_OUTER, RIGHT_EYE_INNER), (LEFT_EYE_INNER, LEFT_EYE_OUTER))
    widths = [np.linalg.norm(points[b, :2] - points[a, :2]) for a, b in eyes]
    along = [(points[b, :2] - points[a, :2]) / w for (a, b), w in zip(eyes, widths, strict=True)]
    middles = [(points[a, :2] + points[b, :2]) / 2 for a, b in eyes]
    head = frame_measurements(points)
    centred = gaze_measurements(points, np.array(middles))
    assert centred["iris_offset_x"] == pytest.approx(0.0, abs=1e-9)
    assert centred["gaze_yaw_deg"] == pytest.approx(head["head_yaw_deg"])
    turned = gaze_measurements(points, np.array([m + 0.1 * w * u for m, w, u in zip(middles, widths, along,
                                                                                   strict=True)]))
    assert turned["iris_offset_x"] == pytest.approx(0.1)
    expected_deg = np.degrees(np.arcsin(0.1 / EYEBALL_RADIUS_EYE_WIDTHS))
    assert turned["gaze_yaw_deg"] - head["head_yaw_deg"] == pytest.approx(expected_deg)
    assert turned["gaze_pitch_deg"] == pytest.approx(head["head_pitch_deg"])


def test_away_fraction_counts_rows_beyond_twenty_degrees_of_the_persons_median_and_skips_missing_ones():
    from runtime.arms.face.arm import _away_fraction

    angles = np.array([[0.0, 0.0], [25.0, 0.0], [0.0, -21.0], [5.0, 5.0], [np.nan, 0.0]])
    assert _away_fraction(angles, np.array([2.0, 1.0])) == pytest.approx(2 / 4)
    assert np.isnan(_away_fraction(angles, np.array([np.nan, np.nan])))  # no gaze measured in the session
    assert np.isnan(_away_fraction(angles[4:], np.array([0.0, 0.0])))


def _mesh(cheek_depth: float = 0.0, chin_forward: float = 0.0) -> np.ndarray:
    """A front-facing face mesh's few points the measurements read (image pixels; depth grows away from the
    camera): eyes 40 px wide at y 100, cheeks at depth -/+``cheek_depth``, chin and forehead at depth
    -/+``chin_forward``."""
    from runtime.arms.face import geometry as g

    points = np.zeros((468, 3))
    for index, xy in ((g.RIGHT_EYE_OUTER, (100, 100)), (g.RIGHT_EYE_INNER, (140, 100)),
                      (g.LEFT_EYE_INNER, (160, 100)), (g.LEFT_EYE_OUTER, (200, 100)),
                      (g.RIGHT_EYE_TOP, (120, 95)), (g.RIGHT_EYE_BOTTOM, (120, 105)),
                      (g.LEFT_EYE_TOP, (180, 95)), (g.LEFT_EYE_BOTTOM, (180, 105))):
        points[index, :2] = xy
    points[g.RIGHT_CHEEK] = [80, 130, -cheek_depth]
    points[g.LEFT_CHEEK] = [220, 130, cheek_depth]
    points[g.FOREHEAD] = [150, 40, chin_forward]
    points[g.CHIN] = [150, 200, -chin_forward]
    return points


def test_a_head_turned_to_the_images_right_and_tilted_up_reads_positive_yaw_and_pitch():
    from runtime.arms.face.geometry import frame_measurements

    level = frame_measurements(_mesh())
    assert level["head_yaw_deg"] == pytest.approx(0.0) and level["head_pitch_deg"] == pytest.approx(0.0)
    turned = frame_measurements(_mesh(cheek_depth=40.0, chin_forward=30.0))  # left cheek back, chin forward
    assert turned["head_yaw_deg"] == pytest.approx(np.degrees(np.arctan2(80, 140)))
    assert turned["head_pitch_deg"] == pytest.approx(np.degrees(np.arctan2(60, 160)))


def test_irises_below_the_middle_of_the_eyes_read_down_and_turn_the_gaze_below_the_head():
    from runtime.arms.face.geometry import EYEBALL_RADIUS_EYE_WIDTHS, gaze_measurements

    points = _mesh(chin_forward=30.0)
    irises = np.array([[120.0, 104.0], [180.0, 104.0]])  # 0.1 eye widths below each eye's middle
    gaze = gaze_measurements(points, irises)
    assert gaze["iris_offset_y"] == pytest.approx(0.1) and gaze["iris_offset_x"] == pytest.approx(0.0)
    eyes_down_deg = np.degrees(np.arcsin(0.1 / EYEBALL_RADIUS_EYE_WIDTHS))
    assert gaze["gaze_pitch_deg"] == pytest.approx(np.degrees(np.arctan2(60, 160)) - eyes_down_deg)


def test_raised_brows_lip_corners_pulled_up_and_each_eyes_own_lids_read_as_such():
    from runtime.arms.face import geometry as g

    points = _mesh()
    points[g.RIGHT_EYE_TOP, 1], points[g.RIGHT_EYE_BOTTOM, 1] = 98, 102  # the right eye nearly shut: 4 of 40 px
    points[list(g.RIGHT_BROW), :2] = [120, 83]  # brows 15 px above the upper lids (interocular 100 px)
    points[list(g.LEFT_BROW), :2] = [180, 80]
    points[g.LIP_TOP_OUTER, :2] = [150, 150]
    points[g.MOUTH_RIGHT, :2], points[g.MOUTH_LEFT, :2] = [125, 145], [175, 145]  # corners 5 px above the lip
    measured = g.frame_measurements(points)
    assert measured["eye_opening"] == pytest.approx(0.5 * (4 / 40 + 10 / 40))
    assert measured["brow_raise"] == pytest.approx(0.15)
    assert measured["lip_corner_pull"] == pytest.approx(0.05)
    assert measured["mouth_width"] == pytest.approx(0.5)


def _expressive_mesh() -> np.ndarray:
    """``_mesh`` with brows raised, lips parted and lip corners pulled up (interocular 100 px)."""
    from runtime.arms.face import geometry as g

    points = _mesh()
    points[list(g.RIGHT_BROW), :2], points[list(g.LEFT_BROW), :2] = [120, 83], [180, 80]
    points[g.LIP_TOP_OUTER, :2], points[g.LIP_TOP_INNER, :2], points[g.LIP_BOTTOM_INNER, :2] = (
        [150, 150], [150, 155], [150, 167])
    points[g.MOUTH_RIGHT, :2], points[g.MOUTH_LEFT, :2] = [125, 145], [175, 145]
    return points


def test_face_measurements_hold_whatever_the_distance_from_the_camera_and_the_heads_roll():
    level = frame_measurements(_expressive_mesh())
    assert level["mouth_opening"] == pytest.approx(0.12)
    angle = np.radians(30.0)  # the face twice as near and rolled 30 degrees (its left eye lower)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = _expressive_mesh()
    moved[:, :2] = 2.0 * (moved[:, :2] - [150, 100]) @ rotation.T + [400, 300]
    moved[:, 2] *= 2.0
    near_and_rolled = frame_measurements(moved)
    assert near_and_rolled["head_roll_deg"] == pytest.approx(30.0)
    for name in ("eye_opening", "brow_raise", "mouth_opening", "mouth_width", "lip_corner_pull"):
        assert near_and_rolled[name] == pytest.approx(level[name]), name


def test_an_iris_moved_a_fifth_of_an_eye_width_turns_the_gaze_30_degrees_on_an_eyeball_of_0_4_eye_widths():
    points = _mesh()  # eyes 40 px wide, facing the camera
    irises = np.array([[128.0, 100.0], [188.0, 100.0]])  # 8 px (0.2 eye widths) right of each eye's middle
    gaze = gaze_measurements(points, irises)
    assert gaze["iris_offset_x"] == pytest.approx(0.2)
    assert gaze["gaze_yaw_deg"] == pytest.approx(30.0)  # arcsin(0.2 / 0.4)


def test_a_blink_is_an_eye_opening_below_half_the_sessions_median_not_half_its_mean():
    from runtime.arms.face.geometry import blinks

    # open at 0.3 most of the time, shut (0.0) in three frames: the median stays 0.3, the mean falls to 0.19
    opening = np.array([0.3, 0.3, 0.0, 0.0, 0.0, 0.3, 0.3, 0.14, 0.3, 0.3])
    assert blinks(opening, np.arange(10) * 0.2).tolist() == pytest.approx([0.4, 1.4])  # 0.14 < 0.15: a blink
