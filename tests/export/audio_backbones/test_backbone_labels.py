import numpy as np
import pytest

from export.audio.backbones.labels import checkpoint_label, map_labels
from runtime.track import CANONICAL_LABELS, LABEL_SYNONYMS


def test_iemocap_style_labels_map_and_missing_canonical_ones_are_unsupported():
    mapping = map_labels({0: "neu", 1: "hap", 2: "ang", 3: "sad"})
    assert mapping.supported == ["neutral", "happy", "sad", "angry"]
    assert mapping.unmapped == []
    assert set(mapping.unsupported) == {"calm", "fearful", "disgust", "surprised"}


def test_emotion2vec_labels_map_by_their_english_part_and_other_and_unk_are_reported():
    tokens = [
        "生气/angry",
        "厌恶/disgusted",
        "恐惧/fearful",
        "开心/happy",
        "中立/neutral",
        "其他/other",
        "难过/sad",
        "吃惊/surprised",
        "<unk>",
    ]
    mapping = map_labels(tokens)
    assert mapping.unmapped == ["其他/other", "<unk>"]
    assert mapping.unsupported == ["calm"]


@pytest.mark.parametrize("name", ["unhappy", "LABEL_3", "contempt", "happy sad", "n/a", "n", " N "])
def test_names_without_one_clear_canonical_meaning_are_not_mapped(name):
    assert checkpoint_label(name) is None


def test_a_checkpoint_of_one_letter_classes_is_refused_not_read_as_always_neutral():
    # was: 'n' mapped to neutral alone, a model whose every claim is neutral
    mapping = map_labels(["a", "d", "f", "h", "n", "sa", "su"])
    assert mapping.supported == [] and mapping.unmapped == list(mapping.model_labels)  # none maps: refused


def test_probabilities_of_synonym_classes_add_up_and_unmapped_mass_is_dropped():
    mapping = map_labels(["Happiness", "joy", "other", "Anger"])
    probs = np.array([[0.2, 0.2, 0.5, 0.1], [0.0, 0.0, 1.0, 0.0]])
    out = mapping.to_canonical(probs)
    assert mapping.supported == ["happy", "angry"]
    np.testing.assert_allclose(out[0], [0.8, 0.2])
    np.testing.assert_allclose(out[1], [0.5, 0.5])  # all its mass unmapped: no claim between the two
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_mapping_onto_a_fixed_label_set_keeps_its_columns():
    mapping = map_labels(["sad", "neutral"])
    out = mapping.to_canonical_over(np.array([[0.3, 0.7]]), list(CANONICAL_LABELS))
    assert out.shape == (1, 8)
    assert out[0, CANONICAL_LABELS.index("neutral")] == pytest.approx(0.7)


@pytest.mark.parametrize("word", sorted(w for w in LABEL_SYNONYMS if len(w) > 1))
def test_a_checkpoint_class_and_a_manifest_read_every_label_word_alike(word):
    # one list of label words: a class named as a clinic's manifest or folder names a label means that label, also
    # within a longer class name, in any case, after an index or a label of another language
    assert checkpoint_label(f"LABEL_{word.upper()}") == LABEL_SYNONYMS[word]
    assert checkpoint_label(f"3: {word.title()}") == LABEL_SYNONYMS[word]
    assert checkpoint_label(f"情绪/{word} ") == LABEL_SYNONYMS[word]
