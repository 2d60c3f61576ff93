"""Identity across frames: each face detection joins the person whose last box it overlaps most.

A person missing for a while keeps the identity when a face comes back near where they were last seen (a patient
who turns away and back is the same person), within ``last_box_window_s``, or near their usual place, however long
they were away (a patient who walks out of view and sits back down after a break: their last box is where they left
the frame, not their seat); the patient is the person present longest and largest.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from runtime.arms.video.detect import box_centre, box_iou, box_size_px

# Faces read that say where a person usually is (30 s at 5 frames a second): the median stays in their seat through
# the few seconds of walking out, and follows them to a new seat within 15 s of their sitting there.
PLACE_READS = 150


@dataclass
class Person:
    person_id: int
    box: np.ndarray
    last_seen_s: float
    sizes_px: list[float] = field(default_factory=list)
    read_frames: int = 0  # frames in which the face mesh read their face
    # centres of their last faces read: where they usually are (the median), for a face coming back after a gap
    read_centres_px: deque = field(default_factory=lambda: deque(maxlen=PLACE_READS))

    def usual_place_px(self) -> np.ndarray:
        """The median centre of their last ``PLACE_READS`` faces read (their last box's before any)."""
        return np.median(np.array(self.read_centres_px), axis=0) if self.read_centres_px else box_centre(self.box)


class IdentityTracker:
    def __init__(self, min_iou: float = 0.2, last_box_window_s: float = 30.0, return_distance: float = 1.5):
        self.min_iou = min_iou
        # a box where someone left the frame says little of where they come back after long; their seat does not
        # expire: the camera and the chairs stay put for a recording, and a patient back from a break is far more
        # common than someone else in their chair (who takes the number all the same, as position is all there is)
        self.last_box_window_s = last_box_window_s
        self.return_distance = return_distance  # in face sizes, for a face that reappears after a gap
        self.people: list[Person] = []
        self._previous_t_s: float | None = None  # the previous frame's time: who was in it is being followed

    def assign(self, boxes: list[np.ndarray], t_s: float, read: list[bool] | None = None) -> list[int]:
        """Person id for each box of one frame (ids start at 1, in order of first appearance). ``read``: whether
        the face mesh read each box's face (all, when not given). A box it did not read joins a person it
        matches (a patient turned away stays the patient) but is nobody new: 0 (a false detection, not a person
        to number, count or give a track)."""
        read = [True] * len(boxes) if read is None else read
        ids = [0] * len(boxes)
        taken: set[int] = set()
        pairs = []
        usual_places = {p.person_id: p.usual_place_px() for p in self.people}
        for i, box in enumerate(boxes):
            size_px = max(box_size_px(box), 1e-6)
            for person in self.people:
                recent = t_s - person.last_seen_s <= self.last_box_window_s
                # a last box seen long ago, overlapped or near, says nothing (a face read once beside the patient's
                # would otherwise take their number minutes later); their seat still does
                iou = float(box_iou(person.box, box[None])[0]) if recent else 0.0
                from_last_px = float(np.linalg.norm(box_centre(box) - box_centre(person.box)))
                from_seat_px = float(np.linalg.norm(box_centre(box) - usual_places[person.person_id]))
                near_last = from_last_px / size_px <= self.return_distance
                distance = min([from_seat_px] + ([from_last_px] if recent else [])) / size_px
                if iou >= self.min_iou or distance <= self.return_distance:
                    # someone followed from the previous frame (overlapping, or moving near their last box) before
                    # any claim by a seat: a person walking past an absent patient's chair keeps their own number
                    followed = person.last_seen_s == self._previous_t_s and (iou >= self.min_iou or near_last)
                    pairs.append((followed, iou - 0.01 * distance, i, person))
        for _, _, i, person in sorted(pairs, key=lambda p: (-p[0], -p[1])):
            if ids[i] or person.person_id in taken:
                continue
            ids[i] = person.person_id
            taken.add(person.person_id)
            self._update(person, boxes[i], t_s, read[i])
        for i, box in enumerate(boxes):
            if not ids[i] and read[i]:
                person = Person(len(self.people) + 1, box, t_s)
                self.people.append(person)
                self._update(person, box, t_s, True)
                ids[i] = person.person_id
        self._previous_t_s = t_s
        return ids

    @staticmethod
    def _update(person: Person, box: np.ndarray, t_s: float, read: bool) -> None:
        """A face read moves the person and counts; one not read (a patient turned away, or a large false box
        joined to a distant face) says only that they are still there: it would otherwise become their size and
        position."""
        person.last_seen_s = t_s
        if read:
            person.box = np.asarray(box, dtype=float)
            person.sizes_px.append(box_size_px(box))
            person.read_frames += 1
            person.read_centres_px.append(box_centre(person.box))

    def last_read_box(self, person_id: int) -> np.ndarray:
        """Where ``person_id``'s face was last read (a detection not read does not move a person)."""
        return next(p.box for p in self.people if p.person_id == person_id)

    def patient(self) -> int | None:
        """The person whose face was read in the most frames, weighted by their median face size; None if nobody.

        Frames whose face the mesh did not read do not count: a large false detection joined to a small real
        face (a distant person) would otherwise outweigh it.
        """
        if not self.people:
            return None
        return max(self.people, key=lambda p: p.read_frames * float(np.median(p.sizes_px))).person_id

