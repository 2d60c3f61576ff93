import numpy as np
import pytest

from export.metrics import (
    classification_metrics,
    expected_calibration_error,
    markdown_table,
    paired_gain,
    prediction_metrics,
)


def test_ece_is_zero_for_honest_confidence_and_the_gap_otherwise():
    y = np.array([0, 0, 1, 1])
    sure_right = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert expected_calibration_error(y, sure_right) == pytest.approx(0.0)
    half_right = np.array([[0.8, 0.2], [0.8, 0.2], [0.8, 0.2], [0.8, 0.2]])  # 80 % sure, 50 % right
    assert expected_calibration_error(y, half_right) == pytest.approx(0.3)


def test_a_confidence_floor_spreads_the_bins_over_the_range_a_two_class_model_uses():
    y = np.array([1, 1, 0, 0])
    probs = np.array([[0.45, 0.55], [0.05, 0.95], [0.55, 0.45], [0.95, 0.05]])
    # [0, 1] bins put 0.55 and 0.95 in different bins either way; what changes is where the edges fall.
    assert expected_calibration_error(y, probs, confidence_floor=0.5) == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)


def test_unclaimed_items_count_as_wrong_and_recall_is_per_class():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.9, 0.1]])
    metrics = classification_metrics(y, probs, ["a", "b"], claimed=np.array([True, False, True, True]))
    assert metrics["recall"] == {"a": 0.5, "b": 0.5}
    assert metrics["ua"] == pytest.approx(0.5) and metrics["wa"] == pytest.approx(0.5)
    assert metrics["no_claim"] == 1


@pytest.mark.parametrize("truth", [0, 1])
def test_an_unclaimed_item_is_wrong_for_calibration_whatever_its_label(truth):
    y = np.array([truth, truth])
    probs = np.full((2, 4), 0.25)  # an unclaimed row: a uniform guess, whose argmax is the first label
    metrics = classification_metrics(y, probs, ["a", "b", "c", "d"], claimed=np.array([False, False]))
    # confidence 0.25, never right: was counted right when the truth was the first label (ECE 0.75)
    assert metrics["wa"] == 0.0 and metrics["ece"] == pytest.approx(0.25)


def test_a_label_without_true_items_has_no_recall_and_stays_out_of_ua():
    y = np.array([0, 0, 1])
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    metrics = classification_metrics(y, probs, ["a", "b", "c"])
    assert metrics["recall"] == {"a": 0.5, "b": 1.0, "c": None}  # c never occurs: no recall, not a recall of 0
    assert metrics["ua"] == pytest.approx(0.75)


def test_paired_gain_counts_the_people_who_gain_and_ignores_those_missing_from_either():
    reference = {"S1": 0.70, "S2": 0.80, "S3": 0.60, "S4": 0.90}
    other = {"S1": 0.75, "S2": 0.85, "S3": 0.55, "S5": 0.99}
    assert paired_gain(other, reference) == "+0.017 ± 0.033 (2/3)"  # gains +0.05, +0.05, -0.05 over S1-S3
    assert paired_gain({"S1": 0.8}, reference) == "—"  # one shared subject: no spread to speak of


def test_macro_f1_is_the_mean_f1_of_the_labels_that_occur_from_precision_and_recall():
    y = np.array([0, 0, 0, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    metrics = classification_metrics(y, probs, ["a", "b", "c"])
    # a: precision 2/2, recall 2/3, F1 0.8; b: precision 1/2, recall 1, F1 2/3; c never occurs: not averaged
    assert metrics["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_an_unclaimed_item_is_judged_at_a_uniform_guess_not_at_the_probabilities_it_was_given():
    metrics = classification_metrics(np.array([0]), np.array([[0.9, 0.1]]), ["a", "b"], claimed=np.array([False]))
    assert metrics["ece"] == pytest.approx(0.5)  # confidence 1/2, wrong; at the row's own 0.9 it would be 0.9


def test_a_confidence_floor_puts_confidences_one_equal_bin_holds_into_bins_of_their_own():
    y = np.array([0, 0])
    probs = np.array([[0.52, 0.48], [0.42, 0.58]])  # right at 0.52, wrong at 0.58: one bin of [0, 1]
    assert expected_calibration_error(y, probs) == pytest.approx(abs(0.5 - 0.55))
    assert expected_calibration_error(y, probs, confidence_floor=0.5) == pytest.approx(0.5 * 0.48 + 0.5 * 0.58)


def test_the_markdown_table_puts_each_figure_under_its_own_heading():
    table = markdown_table({"run": {"ua": 0.5, "wa": 0.75, "macro_f1": 0.6, "ece": 0.1, "n": 4, "no_claim": 1}})
    assert table.splitlines()[0] == "| result | UA | WA | macro-F1 | ECE | n | no claim |"
    assert table.splitlines()[2] == "| run | 0.500 | 0.750 | 0.600 | 0.100 | 4 | 1 |"


def test_paired_gain_does_not_count_a_person_without_change_as_gaining():
    assert paired_gain({"S1": 0.7, "S2": 0.9}, {"S1": 0.7, "S2": 0.8}).endswith("(1/2)")


def test_figures_from_predicted_labels_are_those_of_probabilities_with_the_same_top_label():
    y = np.array([0, 0, 1, 1, 1, 3])  # class 2 never true, but predicted once; class 3 never predicted
    predicted = np.array([0, 2, 1, 1, -1, 0])  # -1: no claim, counted wrong
    probs = np.eye(4)[np.maximum(predicted, 0)]
    from_probs = classification_metrics(y, probs, ["a", "b", "c", "d"], claimed=predicted >= 0)
    from_labels = prediction_metrics(y, predicted, 4)
    assert from_labels == {k: from_probs[k] for k in ("ua", "wa", "macro_f1")}
    assert from_labels["ua"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)  # over the three classes with true rows
    assert from_labels["wa"] == pytest.approx(3 / 6)
    # F1 of a (precision 1/2, recall 1/2), b (1, 2/3) and d (0, 0); c, only ever predicted, adds none
    assert from_labels["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_the_bootstrap_draws_whole_speakers_so_one_right_and_one_wrong_speaker_span_zero_to_one():
    from export.metrics import group_bootstrap_intervals

    y_true = np.tile([0, 1, 2], 40)  # 120 items, 60 per speaker, every label for each
    speakers = np.repeat(["A", "B"], 60)
    y_pred = np.where(speakers == "A", y_true, (y_true + 1) % 3)  # A always right, B always wrong
    interval = group_bootstrap_intervals(y_true, y_pred, speakers, 3, resamples=2000)
    # drawing items would keep about half right in every resample (an interval near 0.5); drawing speakers
    # gives AA (all right) and BB (all wrong) a quarter of the time each
    assert interval == {"ua": [0.0, 1.0], "macro_f1": [0.0, 1.0]}


def test_the_bootstrap_draws_the_same_speakers_for_the_same_seed_and_others_for_another():
    from export.metrics import group_bootstrap_intervals

    # twelve speakers, each right on a share of their own (0 to 11 of 12 items): every draw scores its own figure,
    # so the interval's ends move with the draws
    y_true = np.tile(np.arange(3), 48)
    speakers = np.repeat([f"S{i:02d}" for i in range(12)], 12)
    y_pred = np.where(np.arange(144) % 12 < np.repeat(np.arange(12), 12), y_true, (y_true + 1) % 3)

    def interval(seed):
        return group_bootstrap_intervals(y_true, y_pred, speakers, 3, resamples=200, seed=seed)

    assert interval(3) == interval(3)
    assert interval(4) != interval(3) and interval(0) != interval(3)
    assert interval(3)["ua"][0] < interval(3)["ua"][1]


def test_the_bootstrap_of_speakers_all_alike_has_no_spread():
    from export.metrics import group_bootstrap_intervals

    y_true = np.tile([0, 1], 20)
    speakers = np.repeat(["A", "B", "C", "D"], 10)
    y_pred = np.where(np.arange(40) % 10 == 0, 1 - y_true, y_true)  # each speaker: 9 of 10 right
    figures = prediction_metrics(y_true, y_pred, 2)
    interval = group_bootstrap_intervals(y_true, y_pred, speakers, 2, resamples=300)
    assert interval["ua"] == pytest.approx([figures["ua"]] * 2)
    assert interval["macro_f1"] == pytest.approx([figures["macro_f1"]] * 2)


def test_a_draw_lacking_a_class_scores_the_classes_it_has_or_with_every_class_is_left_out():
    from export.metrics import group_bootstrap_intervals

    # A: two stressed windows, one right; B: two calm windows, both right. A draw of A twice (a quarter of them)
    # has no calm window, one of B twice no stressed one: UA over the class they have is 0.5 or 1.0, where a
    # two-class balanced accuracy is none at all; A with B gives 0.75
    y_true, y_pred, people = np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]), np.array(["A", "A", "B", "B"])
    assert group_bootstrap_intervals(y_true, y_pred, people, 2, resamples=400)["ua"] == [0.5, 1.0]
    kept = group_bootstrap_intervals(y_true, y_pred, people, 2, resamples=400, every_class=True)["ua"]
    assert kept == [0.75, 0.75]
    lacking = group_bootstrap_intervals(np.array([1, 1]), np.array([1, 0]), np.array(["A", "A"]), 2, resamples=10,
                                        every_class=True)
    assert np.isnan(lacking["ua"]).all() and np.isnan(lacking["macro_f1"]).all()


@pytest.mark.parametrize("every_class", [False, True])
def test_the_bootstrap_is_a_naive_loop_over_draws_of_sorted_groups_scored_by_prediction_metrics(every_class):
    from export.metrics import group_bootstrap_intervals

    rng = np.random.default_rng(11)
    names = np.array(["zoe", "al", "mo", "bea", "kim", "ed", "ann"])  # unsorted, of unequal sizes
    sizes = rng.integers(1, 9, len(names))
    groups = np.repeat(names, sizes)
    # each group holds two neighbouring classes: some draws lack a class, which every_class leaves out
    y_true = (np.repeat(np.arange(len(names)) % 4, sizes) + rng.integers(0, 2, len(groups))) % 4
    y_pred = np.where(rng.random(len(groups)) < 0.15, -1, rng.integers(0, 4, len(groups)))  # some unclaimed
    resamples, seed = 300, 5
    ordered = sorted(set(names))  # a draw's indices are into the sorted names
    draws = np.random.default_rng(seed).integers(0, len(ordered), (resamples, len(ordered)))
    figures: dict[str, list[float]] = {"ua": [], "macro_f1": []}
    for draw in draws:
        rows = np.concatenate([np.flatnonzero(groups == ordered[i]) for i in draw])
        if every_class and len(set(y_true[rows])) < 4:
            continue
        scored = prediction_metrics(y_true[rows], y_pred[rows], 4)
        for name in figures:
            figures[name].append(scored[name])
    expected = {name: np.percentile(values, [2.5, 97.5]) for name, values in figures.items()}
    interval = group_bootstrap_intervals(y_true, y_pred, groups, 4, resamples=resamples, seed=seed,
                                         every_class=every_class)
    assert 0 < len(figures["ua"]) < resamples if every_class else len(figures["ua"]) == resamples
    for name in ("ua", "macro_f1"):
        assert interval[name] == pytest.approx(expected[name], abs=1e-12)


@pytest.mark.parametrize(("items", "groups_drawn", "resamples", "drawn_at_once", "bound_bytes"), [
    # one item a group, as a face set's images are: a block's draws (0.1 MB), not all 1000 × 300 at once (2.4 MB, twice)
    (300, 300, 1000, 15_000, 1_500_000),
    # four speakers, seven classes: a draw is short, its 56 counts are not (was 13 MB: blocks of 14,000 draws)
    (40, 4, 30_000, 56_000, 5_000_000),
], ids=["many groups", "few groups of many classes"])
def test_the_bootstrap_draws_in_blocks_of_bounded_memory_with_the_figures_one_block_gives(
        monkeypatch, items, groups_drawn, resamples, drawn_at_once, bound_bytes):
    import export.metrics as metrics
    from tests.memory import peak_traced_bytes

    rng = np.random.default_rng(3)
    groups = np.arange(items) % groups_drawn
    y_true = rng.integers(0, 7, items)
    y_pred = np.where(rng.random(items) < 0.6, y_true, rng.integers(0, 7, items))
    whole = metrics.group_bootstrap_intervals(y_true, y_pred, groups, 7, resamples=resamples, seed=1)
    monkeypatch.setattr(metrics, "DRAWN_GROUPS_AT_ONCE", drawn_at_once)  # 50 and 1000 draws a block
    peak_bytes = peak_traced_bytes(metrics.group_bootstrap_intervals, y_true, y_pred, groups, 7, resamples, 1)
    assert metrics.group_bootstrap_intervals(y_true, y_pred, groups, 7, resamples=resamples, seed=1) == whole
    assert peak_bytes < bound_bytes


def test_a_bootstrap_of_no_draws_has_no_interval_rather_than_failing():
    from export.metrics import group_bootstrap_intervals

    interval = group_bootstrap_intervals(np.array([0, 1, 1]), np.array([0, 1, 0]), np.array(["a", "b", "c"]), 2,
                                         resamples=0)
    assert all(np.isnan(interval[name]).all() for name in ("ua", "macro_f1"))  # was: a ValueError from numpy


def _reference_ece(y, probs, predicted, floor=0.0, n_bins=10):
    """ECE by explicit bin edges: [lo, hi) each, the last closed at 1, anything under the floor in the first."""
    confidence = probs.max(axis=1)
    edges = floor + (1.0 - floor) * np.arange(n_bins + 1) / n_bins
    total = 0.0
    for b in range(n_bins):
        upper = confidence <= edges[b + 1] if b == n_bins - 1 else confidence < edges[b + 1]
        inside = upper & ((confidence >= edges[b]) if b else True)
        if inside.any():
            total += inside.mean() * abs((predicted[inside] == y[inside]).mean() - confidence[inside].mean())
    return total


@pytest.mark.parametrize("seed", range(6))
def test_the_figures_are_those_sklearn_gives_over_the_classes_with_true_rows(seed):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(2, 6)), int(rng.integers(5, 40))
    y = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n)
    claimed = rng.random(n) > 0.2
    metrics = classification_metrics(y, probs, [f"l{i}" for i in range(k)], claimed)
    predicted = np.where(claimed, probs.argmax(axis=1), -1)  # -1 is no class: wrong for every truth
    present = sorted(set(y.tolist()))
    assert metrics["ua"] == pytest.approx(recall_score(y, predicted, labels=present, average="macro", zero_division=0))
    assert metrics["macro_f1"] == pytest.approx(f1_score(y, predicted, labels=present, average="macro",
                                                         zero_division=0))
    assert metrics["wa"] == pytest.approx(accuracy_score(y, predicted))
    assert metrics["confusion"]["rows_true_cols_pred"] == confusion_matrix(y[claimed], predicted[claimed],
                                                                           labels=list(range(k))).tolist()
    uniform_where_unclaimed = np.where(claimed[:, None], probs, 1 / k)
    assert metrics["ece"] == pytest.approx(_reference_ece(y, uniform_where_unclaimed, predicted))


def test_the_confusion_has_the_true_labels_as_rows_and_the_predicted_as_columns():
    metrics = classification_metrics(np.array([0, 0, 0]), np.eye(3)[[1, 1, 2]], ["a", "b", "c"])
    assert metrics["confusion"]["rows_true_cols_pred"] == [[0, 2, 1], [0, 0, 0], [0, 0, 0]]


def test_items_at_full_confidence_count_in_the_top_bin():
    from export.physio.train import stress_calibration_error

    y = np.array([0, 1])
    sure = np.array([[1.0, 0.0], [1.0, 0.0]])  # fully sure both times, right once: a gap of 0.5
    assert expected_calibration_error(y, sure) == pytest.approx(0.5)
    assert expected_calibration_error(y, sure, confidence_floor=0.5) == pytest.approx(0.5)
    assert stress_calibration_error(np.array([1.0, 1.0]), np.array([1, 0])) == pytest.approx(0.5)


@pytest.mark.parametrize("floor", [0.0, 0.5])
def test_the_ece_is_that_of_explicit_equal_width_bins(floor):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    p = rng.uniform(0.0, 1.0, 200)
    p[:5] = [0.5, 0.55, 0.95, 1.0, 0.0]  # on bin edges
    probs = np.column_stack([1 - p, p])
    expected = _reference_ece(y, probs, probs.argmax(axis=1), floor)
    assert expected_calibration_error(y, probs, confidence_floor=floor) == pytest.approx(expected)


@pytest.mark.parametrize("edge, below", [(0.6, 0.55), (0.7, 0.65)])
def test_a_confidence_on_a_bin_edge_is_in_the_bin_above_it(edge, below):
    # over [0.5, 1] a bin is 0.05 wide: a right answer at the edge and a wrong one in the bin below are two bins
    y = np.array([1, 1])
    probs = np.array([[1 - edge, edge], [below, 1 - below]])  # the second says 0: wrong
    apart = ((1 - edge) + below) / 2  # was one bin: |0.5 - their mean confidence|
    assert expected_calibration_error(y, probs, confidence_floor=0.5) == pytest.approx(apart)
    assert _reference_ece(y, probs, probs.argmax(axis=1), 0.5) == pytest.approx(apart)


def test_an_interval_over_one_group_is_its_note_alone_with_no_figures():
    from export.metrics import group_interval, interval_text

    y = np.array([0, 1, 0, 1])
    interval = group_interval(y, np.array([0, 1, 1, 1]), np.array(["A"] * 4), 2, "speaker", resamples=50)
    assert interval == {"note": "one speaker: no interval over speakers"}
    assert interval_text(interval, "ua") == ""


def test_a_reported_interval_is_drawn_2000_times_as_the_readme_says():
    from export.metrics import group_bootstrap_intervals, group_interval
    from export.physio.train import subject_bootstrap_interval

    rng = np.random.default_rng(4)
    groups = np.repeat([f"S{i:02d}" for i in range(9)], 12)
    y = np.tile([0, 1], 54)
    p = np.where(rng.random(108) < np.repeat(np.linspace(0.2, 0.9, 9), 12), y, 1 - y)
    interval = group_interval(y, p, groups, 2, "subject")
    assert interval["resamples"] == 2000
    assert interval["ua"] == group_bootstrap_intervals(y, p, groups, 2, resamples=2000)["ua"]
    by_subject = {s: (p[groups == s].astype(float), y[groups == s]) for s in np.unique(groups)}
    assert subject_bootstrap_interval(by_subject) == subject_bootstrap_interval(by_subject, resamples=2000)


def test_the_face_report_names_accuracy_and_balanced_accuracy_apart():
    from export.face.metrics import classification_report

    y = np.array([0, 0, 0, 1])  # a model always saying the first: accuracy 3/4, balanced accuracy 1/2
    report = classification_report(y, np.tile([0.9, 0.1], (4, 1)), ["neutral", "happy"])
    assert report["accuracy"] == pytest.approx(0.75) and report["balanced_accuracy"] == pytest.approx(0.5)


def test_fusion_scores_bin_a_many_label_confidence_over_the_whole_range():
    from export.fusion.evaluate import scores

    # 0.35 (right) and 0.45 (wrong) fall in bins of their own over [0, 1]; over [0.5, 1] both would share the first
    probs = np.array([[0.35, 0.33, 0.32], [0.45, 0.30, 0.25]])
    assert scores(probs, np.array([0, 1]))["ece"] == pytest.approx(0.5 * 0.65 + 0.5 * 0.45)
