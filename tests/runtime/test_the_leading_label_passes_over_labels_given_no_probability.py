"""The leading label of a claim passes over the labels the window gives no probability (null: the fused track's,
where none of the modalities it read can name the label), even where each label it gives is as unlikely as null."""

from runtime.track import leading_label_index


def test_a_label_given_no_probability_is_never_the_leading_one():
    assert leading_label_index([None, 0.0, 0.0]) == 1
    assert leading_label_index([None, 0.3, None, 0.7]) == 3
