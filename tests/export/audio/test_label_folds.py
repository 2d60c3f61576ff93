"""A label whose every speaker falls in one fold is never learnt by the model that scores it, so its out-of-fold
recall is 0 by construction, as for a label of one speaker: a training run's report says so (or its folds split the
label's speakers)."""

import json
import wave

import numpy as np

import export.audio.train as train
from export.audio.extract import WindowTable


def _manifest(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["path,speaker,emotion"]
    for n, (speaker, label) in enumerate(rows):
        path = folder / f"{speaker}_{label}_{n}.wav"
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(n.to_bytes(2, "little") * 1600)  # each its own bytes: equal bytes are one recording
        lines.append(f"{path.name},{speaker},{label}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_a_label_whose_speakers_all_share_one_fold_is_warned_of_or_split(tmp_path, monkeypatch):
    speakers = ["P01", "P02", "P03", "P04", "P05"]
    shared = train.speaker_folds(speakers, 3)[0]  # the speakers one fold holds out together
    assert len(shared) >= 2
    rows = [(s, label) for s in speakers for label in ("calm-ish", "worried") for _ in range(2)]
    rows += [(s, "tearful") for s in shared for _ in range(2)]

    def fake_extract(clips, cache_dir=None, progress=False, speed_factor=1.0, data=None):
        index = np.repeat(np.arange(len(clips)), 3)
        code = {"calm-ish": 0, "worried": 1, "tearful": 2}
        y = np.array([code[c.emotion] for c in clips])[index]
        features = np.random.default_rng(0).normal(size=(index.size, 6)).astype(np.float32) + 3 * y[:, None]
        return WindowTable(features, index, list(clips), [], speed_factor)

    monkeypatch.setattr(train, "extract_windows", fake_extract)
    monkeypatch.setitem(train.CLASSIFIER, "kind", "logreg")
    monkeypatch.setitem(train.CLASSIFIER, "C", 1.0)
    out = tmp_path / "run"
    train.train_audio(_manifest(tmp_path / "data", rows), out, cv_folds=3, speed_factors=(), labels_as_given=True)
    report = json.loads((out / "report.json").read_text())
    split = sum(any(s in fold for s in shared) for fold in report["folds"]) > 1
    assert split or any("tearful" in w for w in report["warnings"]), report["warnings"]
