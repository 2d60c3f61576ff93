"""The time each window stands for (``time_stood_for_s``), which the reading's stretches and fusion's alignment share:
windows that overlap or touch meet half-way between their centres, and where a window lies inside an earlier,
longer one the time up to the furthest end reached is still covered (no gap is read there)."""


from runtime.track import time_stood_for_s


def test_touching_windows_of_unequal_length_meet_half_way_between_their_centres():
    # a 2 s window and the shorter tail window after it touch at 2.0 s; their centres are 1.0 and 2.25 s
    assert time_stood_for_s([(0.0, 2.0), (2.0, 2.5)]) == [(0.0, 1.625), (1.625, 2.5)]


def test_a_window_inside_a_longer_one_leaves_no_gap_before_the_next_window():
    # (1, 2) lies inside (0, 4): (3, 5) starts before the furthest end reached (4 s), so it overlaps, no gap
    stood = time_stood_for_s([(0.0, 4.0), (1.0, 2.0), (3.0, 5.0)])
    assert stood == [(0.0, 1.75), (1.75, 2.75), (2.75, 5.0)]
    assert all(before[1] == after[0] for before, after in zip(stood, stood[1:], strict=False))


def test_windows_with_a_gap_between_them_stand_for_no_time_in_it():
    assert time_stood_for_s([(0.0, 2.0), (5.0, 7.0)]) == [(0.0, 2.0), (5.0, 7.0)]


def test_a_last_window_inside_a_longer_one_stands_for_time_in_order_up_to_the_longer_ones_end():
    # was: [(0.0, 2.875), (2.875, 1.0)], a span ending before it began, and 1-10 s stood for by none
    assert time_stood_for_s([(0.0, 10.0), (0.5, 1.0)]) == [(0.0, 1.0), (1.0, 10.0)]
    assert time_stood_for_s([(0.0, 10.0), (2.0, 4.0)]) == [(0.0, 4.0), (4.0, 10.0)]  # was: the last (4.0, 4.0)
