"""Who is who across frames: identities kept, a patient chosen, a returning face recognised by its last box while
recent and by its seat however long it was away."""

import numpy as np
import pytest

from runtime.arms.face.tracking import IdentityTracker


def _box(x: float, y: float, size: float) -> np.ndarray:
    return np.array([x, y, x + size, y + size], dtype=float)


@pytest.mark.parametrize(("frames_a", "frames_b", "patient"), [
    (10, 12, 1),  # A: 10 frames x 100 px beats B: 12 x 50 px (the most frames alone would pick B)
    (10, 30, 2),  # B: 30 x 50 px beats A: 10 x 100 px (the largest face alone would pick A)
])
def test_the_patient_is_the_person_seen_most_weighted_by_face_size(frames_a, frames_b, patient):
    tracker = IdentityTracker()
    for i in range(max(frames_a, frames_b)):
        boxes = ([_box(100, 100, 100)] if i < frames_a else []) + ([_box(500, 100, 50)] if i < frames_b else [])
        tracker.assign(boxes, 0.2 * i)
    assert tracker.patient() == patient


def test_a_box_the_face_mesh_never_read_is_nobody_not_a_person_or_the_patient():
    tracker = IdentityTracker()
    for i in range(6):  # the large box: a false detection around a distant person's small face
        assert tracker.assign([_box(500, 400, 40), _box(400, 250, 320)], 0.2 * i, read=[True, False]) == [1, 0]
    assert len(tracker.people) == 1 and tracker.patient() == 1  # was: a second person, and the patient


def test_a_patient_whose_face_turns_away_unread_keeps_their_number_and_frames_read_decide_the_patient():
    tracker = IdentityTracker()
    tracker.assign([_box(100, 100, 200)], 0.0)
    assert tracker.assign([_box(110, 100, 200)], 0.2, read=[False]) == [1]  # turned away: still person 1
    for i in range(2, 5):  # someone smaller, read in three frames, against the patient's one
        tracker.assign([_box(600, 100, 80)], 0.2 * i)
    assert tracker.people[0].read_frames == 1 and tracker.patient() == 2


def test_two_faces_in_one_frame_never_share_an_identity_and_each_keeps_its_own():
    tracker = IdentityTracker()
    assert tracker.assign([_box(100, 100, 80), _box(150, 100, 80)], 0.0) == [1, 2]  # overlapping boxes
    assert tracker.assign([_box(152, 100, 80), _box(98, 100, 80)], 0.2) == [2, 1]  # listed the other way round
    alone = IdentityTracker()
    alone.assign([_box(100, 100, 80)], 0.0)
    assert alone.assign([_box(95, 100, 80), _box(105, 100, 80)], 0.2) == [1, 2]  # both near one person: one is new


def test_a_face_returning_near_its_last_box_after_the_last_box_window_is_a_new_person_and_within_it_the_same():
    tracker = IdentityTracker(last_box_window_s=30.0)
    tracker.assign([_box(100, 100, 80)], 0.0)
    # each time out of sight for 25 s and back 1.1 face sizes away, not overlapping: the same person
    assert tracker.assign([_box(190, 100, 80)], 25.0) == [1]
    assert tracker.assign([_box(280, 100, 80)], 50.0) == [1]  # 25 s after it was last seen, 50 s after the first
    assert tracker.assign([_box(370, 100, 80)], 90.0) == [2]  # as near, but 40 s after it was last seen (and 2.25
    # face sizes from its usual place, the median of the three)


def test_a_box_the_mesh_did_not_read_joins_a_person_without_becoming_their_size_or_place():
    tracker = IdentityTracker()
    for i in range(3):
        tracker.assign([_box(500, 400, 40)], 0.2 * i)  # a distant patient, read
    for i in range(3, 8):  # their face missed; a large false box around it joins them, unread
        assert tracker.assign([_box(380, 280, 320)], 0.2 * i, read=[False]) == [1]
    person = tracker.people[0]
    assert person.sizes_px == [40.0] * 3 and person.box.tolist() == [500, 400, 540, 440]  # was: 320 px, moved
    assert person.last_seen_s == pytest.approx(1.4)  # still there


def test_a_patient_turned_away_for_longer_than_the_return_window_keeps_their_number():
    tracker = IdentityTracker()
    tracker.assign([_box(100, 100, 80)], 0.0)
    for i in range(1, 201):  # 40 s turned away, drifting 60 px: detected, never read
        assert tracker.assign([_box(100 + 0.3 * i, 100, 80)], 0.2 * i, read=[False]) == [1]
    assert tracker.assign([_box(160, 100, 80)], 40.2) == [1]  # read again: the same person


def _walk_out(tracker: IdentityTracker) -> float:
    """Seated at x = 100 for 5 s, then walking right 40 px a frame to the frame's edge; the last frame's time."""
    t_s = 0.0
    for i in range(25):
        t_s = 0.2 * i
        tracker.assign([_box(100, 100, 50)], t_s)
    for step in range(1, 13):
        t_s += 0.2
        tracker.assign([_box(100 + 40 * step, 100, 50)], t_s)
    return t_s


def test_a_patient_who_walks_out_and_sits_back_down_is_matched_by_their_usual_place_not_their_last_box():
    tracker = IdentityTracker()
    gone_s = _walk_out(tracker)
    assert tracker.assign([_box(102, 100, 50)], gone_s + 4.0) == [1]  # was: 2, 10 face sizes from the last box
    assert len(tracker.people) == 1


def test_someone_in_a_present_persons_usual_place_is_not_that_person():
    tracker = IdentityTracker()
    gone_s = _walk_out(tracker)
    # the patient, still in view at the edge, and a newcomer in the patient's seat: two people
    assert tracker.assign([_box(580, 100, 50), _box(100, 100, 50)], gone_s + 0.2) == [1, 2]


@pytest.mark.parametrize("away_s", [45.0, 120.0])
def test_a_patient_back_in_their_seat_after_a_long_break_keeps_their_number_and_stays_the_patient(away_s):
    tracker = IdentityTracker()
    back_s = _walk_out(tracker) + away_s
    for i in range(30):  # sits back down for 6 s: fewer frames than before the break
        assert tracker.assign([_box(102, 100, 50)], back_s + 0.2 * i) == [1]  # was: 2, away over 30 s
    assert len(tracker.people) == 1 and tracker.patient() == 1


def test_after_a_long_break_two_faces_in_the_seat_are_the_patient_and_someone_new():
    tracker = IdentityTracker()
    back_s = _walk_out(tracker) + 45.0
    assert tracker.assign([_box(85, 100, 50), _box(105, 100, 50)], back_s) == [2, 1]  # the nearer to the seat


def _two_walk_out(tracker: IdentityTracker) -> float:
    """Two people seated 60 px apart (1.2 face sizes) for 5 s, then walking out of view, one left, one right."""
    t_s = 0.0
    for step in range(37):
        t_s = 0.2 * step
        shift_px = 40 * max(step - 24, 0)
        tracker.assign([_box(100 - shift_px, 100, 50), _box(160 + shift_px, 100, 50)], t_s)
    return t_s


@pytest.mark.parametrize("listed", ["in order", "the other way round"])
def test_two_absent_people_whose_seats_both_match_a_face_give_it_the_nearer_ones_number(listed):
    tracker = IdentityTracker()
    back_s = _two_walk_out(tracker) + 60.0
    assert tracker.assign([_box(150, 100, 50)], back_s) == [2]  # 0.2 face sizes from seat 2, 1.0 from seat 1
    tracker = IdentityTracker()
    back_s = _two_walk_out(tracker) + 60.0
    boxes = [_box(105, 100, 50), _box(158, 100, 50)]
    expected = [1, 2]
    if listed == "the other way round":
        boxes, expected = boxes[::-1], expected[::-1]
    assert tracker.assign(boxes, back_s) == expected  # was: 3 and 4, both away over 30 s
    assert len(tracker.people) == 2


@pytest.mark.parametrize("away_s", [10.0, 60.0])
def test_someone_walking_past_an_absent_patients_seat_keeps_their_own_number(away_s):
    tracker = IdentityTracker()
    t_s = _walk_out(tracker) + away_s
    for i in range(25):  # a second person, seated far from the patient's seat
        tracker.assign([_box(400, 100, 50)], t_s + 0.2 * i)
    t_s += 5.0
    for step in range(1, 7):  # walking left, 60 px a frame (boxes not overlapping), through the seat at x = 100
        assert tracker.assign([_box(400 - 60 * step, 100, 50)], t_s + 0.2 * step) == [2]  # was: 1 from x = 100


def test_a_box_last_seen_long_ago_claims_no_face_that_overlaps_it_neither_walking_nor_back_in_the_seat():
    tracker = IdentityTracker()
    for i in range(50):  # the patient in their seat; once, a second box beside their face, read: person 2
        boxes = [_box(100, 100, 50)] + ([_box(120, 100, 50)] if i == 10 else [])
        assert tracker.assign(boxes, 0.2 * i) == [1, 2][:len(boxes)]
    for step in range(1, 13):  # walking out to the right: still the patient (was: 2, over person 2's old box)
        assert tracker.assign([_box(100 + 40 * step, 100, 50)], 10.0 + 0.2 * step) == [1]
    back_s = 12.4 + 300.0  # five minutes on, after a break, back exactly in the seat
    # person 2's box, overlapping the seat, was last seen minutes ago: it is nobody followed (was: 2, not 1)
    assert tracker.assign([_box(102, 100, 50)], back_s) == [1]



def test_someone_walking_into_the_seat_of_a_patient_who_has_just_walked_off_keeps_their_own_number():
    tracker = IdentityTracker()
    for i in range(30):  # the patient in their seat
        tracker.assign([_box(100, 100, 50)], 0.2 * i)
    for step in range(1, 6):  # the patient walking down, away from the seat; someone else walking left towards it
        t_s = 6.0 + 0.2 * step
        assert tracker.assign([_box(100, 100 + 60 * step, 50), _box(460 - 60 * step, 100, 50)], t_s) == [1, 2]
    # the walker reaches the seat, 60 px on; the patient, 300 px below it a frame ago, is missed in this frame. In
    # the last frame too, but far from this face: not followed to it, so their seat does not take the walker's face
    assert tracker.assign([_box(100, 100, 50)], 7.2) == [2]
