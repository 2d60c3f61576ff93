"""A training set's clips that cannot be read (empty, not audio) are refused together, each named with its problem,
once every clip is read: not one a run, each retry spending the feature work again to meet the next."""

import os

import pytest

import export.audio.train as train
from runtime.errors import InputError
from tests.export.audio.corpora import write_manifest


def test_every_unreadable_clip_of_a_training_set_is_named_in_one_refusal(tmp_path):
    data = write_manifest(tmp_path / "data", speakers=("ann", "bob", "cy"), labels=("sad", "happy"))
    (data / "empty.wav").write_bytes(b"")
    (data / "garbage.mp3").write_bytes(os.urandom(4000))
    with open(data / "manifest.csv", "a") as handle:
        handle.write("empty.wav,ann,sad\ngarbage.mp3,bob,sad\n")
    with pytest.raises(InputError) as refused:
        train.train_audio(data, tmp_path / "run", cv_folds=3, speed_factors=())
    said = str(refused.value)  # was: '.../empty.wav: empty file' alone
    assert said.startswith(f"{data}: 2 of 8 file(s) could not be read: ")
    assert f"{data / 'empty.wav'}: empty file" in said and f"{data / 'garbage.mp3'}: not a readable media file" in said
    assert not (tmp_path / "run").exists()
