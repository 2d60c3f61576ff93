"""fit_to_input (runtime/arms/physio/arm.py) cuts the physio track again where the input was read to. A window that
already lies inside the input as read must stay as physio_track placed it: cut again about its centre, the one
centred on the video's start (0.0..0.001, an offset of whole hops; test_the_command_line_offset_reaches_the_track_
negative_numbers_included) widened to 0.0..0.0015 in every analyze that has a voice, face or body track."""

from runtime.arms.physio.arm import fit_to_input
from tests.arms.physio.stand_ins import physio_track_over


def test_windows_inside_the_input_as_read_keep_their_spans_the_one_centred_on_its_start_included():
    spans = [(0.0, 0.001), (0.0, 60.0), (30.0, 90.0), (60.0, 120.0)]  # --physio-offset=-210, 60 s windows
    assert [(w.start_s, w.end_s) for w in fit_to_input(physio_track_over(*spans), 120.0).windows] == spans


def test_windows_past_where_the_input_was_read_are_cut_about_their_centres_or_left_out():
    fitted = fit_to_input(physio_track_over((0.0, 60.0), (30.0, 90.0), (60.0, 120.0)), 80.0)
    assert [(w.start_s, w.end_s) for w in fitted.windows] == [(0.0, 60.0), (40.0, 80.0)]
