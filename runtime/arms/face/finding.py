"""Where the faces of a frame are, small ones included.

The detector reads a whole frame at its input size (192 px): a 1280-px frame is shrunk almost seven times, and a
face under about 100 px (a person 3 m from a 1080p room camera) becomes a dozen pixels, found in some frames and
missed in others (benchmarks/face_small.py). Two further looks, at the detector's own input size, find them:

- around each person seen in the last ``TRACK_S`` seconds whose face is below what the whole-frame look finds
  reliably and whom that look missed: a square of a few face sizes (following a face from frame to frame, as
  MediaPipe's face pipelines do);
- overlapping squares covering the frame, for faces nobody follows yet: searched in turn, a share of them in
  each frame, so that each square is searched once every ``search_every_s`` seconds and no frame pays for the
  whole search (the first frame, before the frames' pace is known, searches them all).

A frame no larger than a few detector inputs gets neither: its faces are followed only below the size the
whole-frame look finds reliably, and it has no search squares.
"""

from __future__ import annotations

import numpy as np

from runtime.arms.face.tracking import Person
from runtime.arms.video.detect import (
    Detection,
    Square,
    SsdDetector,
    box_centre,
    box_iou,
    box_size_px,
    covering_squares,
    detect_in_square,
    merge_detections,
    square_around,
)

# Measured on the shipped detector (benchmarks/face_small.py): faces of 15 px or more at its input were found in
# every position tried, faces of 11-12 px in about half.
FOUND_RELIABLY_AT_INPUT_PX = 16.0
TRACK_S = 2.0  # a person unseen for longer is left to the next search of the whole frame
TRACK_SQUARE_FACES = 4.0  # side of the square around a followed face, in face sizes
SEARCH_SQUARE_INPUTS = 2.5  # side of a search square, in detector inputs: faces of 6-7 px at the input become 16
# ... and at least this share of the frame's longer side: above 1280 px (face.max_side_px may allow 16384) the
# squares grow with the frame, so that the search costs what it costs at 1280 px (a 4K frame: 8 squares, not 264)
SEARCH_SQUARE_SHARE = SEARCH_SQUARE_INPUTS * 192 / 1280
MIN_SEARCH_GAIN = 1.5  # a square must show faces this much larger than the whole-frame look, or it is not run


class FaceFinder:
    """The detector's whole-frame look, plus the looks that find faces too small for it."""

    def __init__(self, detector: SsdDetector, search_every_s: float = 1.0):
        self.detector = detector
        self.search_every_s = search_every_s
        self._last_t_s: float | None = None  # the previous frame's time: the pace the search is spread over
        self._next_square = 0  # where the round of search squares goes on
        self._owed_squares = 0.0  # squares due but not searched yet (a fraction carries to the next frame)

    def find(self, image: np.ndarray, t_s: float, people: list[Person]) -> list[Detection]:
        """Faces in ``image`` (RGB uint8) at ``t_s``, best first; ``people`` are those followed so far."""
        found = self.detector.detect(image)
        height, width = image.shape[:2]
        reliable_px = FOUND_RELIABLY_AT_INPUT_PX * max(height, width) / self.detector.input_px
        more: list[Detection] = []
        for person in people:
            if self._to_follow(person, t_s, reliable_px, found, self.detector.iou_threshold):
                side_px = max(TRACK_SQUARE_FACES * box_size_px(person.box), self.detector.input_px)
                square = square_around(box_centre(person.box), side_px, width, height)
                more.extend(detect_in_square(self.detector, image, square))
        elapsed_s = None if self._last_t_s is None else t_s - self._last_t_s
        self._last_t_s = t_s
        if self.search_every_s > 0:
            for square in self._squares_due(self._search_squares(width, height, reliable_px), elapsed_s):
                more.extend(detect_in_square(self.detector, image, square))
        # Faces the whole-frame look finds reliably are its own: a square's find that large is part of a face
        # (half of a large face, read as a face of its own), not another person.
        more = [d for d in more if d.size_px < reliable_px]
        return merge_detections(found + more, self.detector.iou_threshold) if more else found

    def _squares_due(self, squares: list[Square], elapsed_s: float | None) -> list[Square]:
        """The next squares of the round that this frame owes the search (``squares_owed``)."""
        if not squares:
            return []
        self._owed_squares = min(self._owed_squares + squares_owed(len(squares), elapsed_s, self.search_every_s),
                                 len(squares))
        count = int(self._owed_squares + 1e-9)  # 1.6 * 5 frames adds up to 8 squares, not 7.999...
        self._owed_squares -= count
        start = self._next_square % len(squares)
        self._next_square = (start + count) % len(squares)
        return [squares[(start + i) % len(squares)] for i in range(count)]

    def _search_squares(self, width_px: int, height_px: int, reliable_px: float) -> list[Square]:
        """The squares of a search: as wide as a few detector inputs, or a share of a large frame, no wider than
        the frame's shorter side; none where they would not show faces larger than the whole-frame look does."""
        long_px = max(width_px, height_px)
        side_px = min(int(max(SEARCH_SQUARE_INPUTS * self.detector.input_px, SEARCH_SQUARE_SHARE * long_px)),
                      width_px, height_px)
        if long_px < MIN_SEARCH_GAIN * side_px:
            return []
        return covering_squares(width_px, height_px, side_px, int(np.ceil(reliable_px)))

    @staticmethod
    def _to_follow(person: Person, t_s: float, reliable_px: float, found: list[Detection],
                   same_iou: float) -> bool:
        """A person seen lately (a person is a face the mesh has read), with a face too small for the whole-frame
        look, which missed it this time (a box overlapping theirs by less than ``same_iou``, such as a large false
        one around them, is not it)."""
        if t_s - person.last_seen_s > TRACK_S or box_size_px(person.box) >= reliable_px:
            return False
        return not any(float(box_iou(person.box, d.box[None])[0]) >= same_iou for d in found)


def squares_owed(n_squares: int, elapsed_s: float | None, search_every_s: float) -> float:
    """How many of a round of ``n_squares`` search squares a frame owes, ``elapsed_s`` after the previous frame,
    for the round to be searched once every ``search_every_s``: its share of the period (1.6 of 8 squares at 5
    frames a second and 1 s), the whole round after a gap of a period or more, and for the first frame (None),
    whose pace is not known yet; nothing for a frame no later than the previous one."""
    if elapsed_s is None:
        return float(n_squares)
    return n_squares * min(max(elapsed_s, 0.0), search_every_s) / search_every_s
