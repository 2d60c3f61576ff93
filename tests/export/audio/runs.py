"""A voice-model training run's parts made by hand: window tables of speakers (with their clips), the figures of a
named result, and the card of a run with what the card is given."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import export.audio.train as train
from export.audio.export import _card
from export.audio.extract import WindowTable
from export.audio.train import LABELS

LOGREG = {"kind": "logreg", "C": 1.0}


def speakers_table(windows_per_speaker: dict[str, int], seed: int = 0):
    """Two windows a clip; each speaker's voice sits at a level and spread of its own, as real voices do.
    Returns the table, each clip's label (cycling through the first four labels) and each clip's speaker."""
    rng = np.random.default_rng(seed)
    features, speakers = [], []
    for k, (speaker, n) in enumerate(windows_per_speaker.items()):
        features.append(rng.normal(10.0 * (k + 1), 1.0 + k, size=(n, 3)))
        speakers += [speaker] * (n // 2)
    index = np.repeat(np.arange(len(speakers)), 2)
    y_clip = np.arange(len(speakers)) % 4
    return WindowTable(np.concatenate(features).astype(np.float32), index, [], []), y_clip, np.array(speakers)


def with_clips(table: WindowTable, y_clip: np.ndarray, speaker_clip: np.ndarray):
    """``speakers_table``'s result with a clip entry for each clip, as the cross-validation counts them."""
    from export.audio.datasets import Clip

    clips = [Clip(Path(f"{n}.wav"), str(speaker), LABELS[label], "manifest")
             for n, (speaker, label) in enumerate(zip(speaker_clip, y_clip, strict=True))]
    return WindowTable(table.features, table.clip_index, clips, []), y_clip, speaker_clip


def result_figures(k: int) -> dict:
    """Metrics of one named result whose every figure differs from every other's."""
    return {"ua": 0.101 + k / 10, "wa": 0.102 + k / 10, "macro_f1": 0.103 + k / 10, "ece": 0.104 + k / 10,
            "n": 50 + k, "no_claim": k, "recall": {label: k / 100 for label in LABELS},
            "confusion": {"rows_true_cols_pred": []}}


def card_of(tmp_path: Path, speakers: list[str], folds: int = 4, **report_fields) -> dict:
    report = {"data": "clinic/voices", "n_clips": 96, "speakers": speakers, **report_fields,
              "folds": [speakers[i::folds] for i in range(folds)], "validation_speakers": speakers[-1:],
              "cv": {name: result_figures(k) for k, name in enumerate(("session/clip", "session/window", "none/clip",
                                                                       "none/window"))}}
    return _card(*card_inputs(tmp_path, report)) | {"report": report}


def card_inputs(tmp_path: Path, report: dict) -> tuple[dict, dict, dict, Path]:
    """What ``_card`` is given for the run of ``report``: the models' meta, the report, the INT8 check, the folder."""
    meta = {"n_features": 6, "window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3, "classifier": LOGREG,
            "validation_speakers": report["validation_speakers"], "speed_factors": [0.9, 1.1]}
    figures = {"size_bytes_int8": 1, "size_bytes_float": 4, "ua_float": 0.5, "ua_int8": 0.5, "macro_f1_float": 0.5,
               "macro_f1_int8": 0.5, "window_agreement": 1.0}
    check = {mode: {"all_model": figures, "check_model": figures, "latency_ms_per_window_int8": 0.1}
             for mode in train.MODES}
    for mode in train.MODES:
        (tmp_path / f"{mode}.int8.onnx").write_bytes(mode.encode())
    return meta, report, check, tmp_path
