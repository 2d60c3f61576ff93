"""timeline.csv's label columns: the eight canonical emotions always, in canonical order, whichever tracks a session
holds and whichever comes first, then a track's own labels; its measurement columns beyond those declared sorted by
name, so two sessions' files line up column for column."""

import csv
import io

from runtime.timeline import CSV_FIXED_COLUMNS, Timeline
from runtime.track import CANONICAL_LABELS, Track, Window


def _header(timeline: Timeline) -> list[str]:
    return next(csv.reader(io.StringIO(timeline.to_csv())))


def test_the_eight_emotions_are_columns_even_where_only_a_stress_track_was_made():
    physio = Track("physio", labels=["stress"], windows=[Window(0.0, 30.0, [0.7], 1.0)])
    assert _header(Timeline("x.csv", 30.0, [physio])) == [*CSV_FIXED_COLUMNS, *CANONICAL_LABELS, "stress"]


def test_the_emotions_come_before_a_tracks_own_labels_whichever_track_comes_first():
    physio = Track("physio", labels=["stress"], windows=[Window(0.0, 2.0, [0.7], 1.0)])
    face = Track("face", labels=["neutral", "happy"], windows=[Window(0.0, 2.0, [0.5, 0.5], 1.0)])
    assert _header(Timeline("x.mp4", 2.0, [physio, face])) == [*CSV_FIXED_COLUMNS, *CANONICAL_LABELS, "stress"]


def test_measurements_no_arm_declares_come_sorted_by_name():
    names = [f"quality_{modality}" for modality in ("zeta", "alpha", "mike", "delta", "kilo", "bravo", "echo", "golf")]
    track = Track("fused", windows=[Window(0.0, 2.0, [1 / 8] * 8, 1.0, "", dict.fromkeys(names, 0.5))])
    header = _header(Timeline("x.mp4", 2.0, [track]))
    assert header[len(CSV_FIXED_COLUMNS) + len(CANONICAL_LABELS):] == sorted(names)
