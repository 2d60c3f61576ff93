"""The pretrained speech models the training host knows by short name: hub id, kind, licence, languages.

A name outside this table (any hub id, or a local folder) still works; the table only adds a short name and
the facts a clinic needs before choosing (licence, languages, size). Licences are as stated on each model's
hub card when this table was written; `emotrace models add` and `models list` show them.
"""

from __future__ import annotations

from dataclasses import dataclass

# What the training code does with a model of each kind.
KIND_ENCODER = "encoder"  # self-supervised encoder: learned layer weights + a trained head
KIND_CLASSIFIER = (
    "classifier"  # fine-tuned emotion checkpoint with its own head (AutoModelForAudioClassification)
)
KIND_DIMENSIONAL = "dimensional"  # audEERING's arousal/dominance/valence regression model
KIND_EMOTION2VEC = "emotion2vec"  # emotion2vec(+), a FunASR checkpoint (not a transformers model)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    repo_id: str
    kind: str
    licence: str
    languages: str
    params_m: float  # millions of parameters, from the architecture (base ≈ 95, large ≈ 316)
    note: str = ""

    @property
    def non_commercial(self) -> bool:
        return (
            "nc" in self.licence.lower().replace("-", " ").split() or "non-commercial" in self.licence.lower()
        )


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            "wavlm-base-plus",
            "microsoft/wavlm-base-plus",
            KIND_ENCODER,
            "MIT (microsoft/unilm)",
            "English (94k h: Libri-Light, GigaSpeech, VoxPopuli en)",
            94.7,
        ),
        CatalogEntry(
            "wavlm-large",
            "microsoft/wavlm-large",
            KIND_ENCODER,
            "MIT (microsoft/unilm)",
            "English (94k h)",
            315.5,
        ),
        CatalogEntry(
            "wav2vec2-base",
            "facebook/wav2vec2-base",
            KIND_ENCODER,
            "Apache-2.0",
            "English (LibriSpeech 960 h)",
            95.0,
        ),
        CatalogEntry(
            "wav2vec2-large-robust",
            "facebook/wav2vec2-large-robust",
            KIND_ENCODER,
            "Apache-2.0",
            "English (Libri-Light, CommonVoice, Switchboard, Fisher)",
            317.4,
        ),
        CatalogEntry(
            "xls-r-300m",
            "facebook/wav2vec2-xls-r-300m",
            KIND_ENCODER,
            "Apache-2.0",
            "128 languages (436k h)",
            317.4,
        ),
        CatalogEntry(
            "hubert-base",
            "facebook/hubert-base-ls960",
            KIND_ENCODER,
            "Apache-2.0",
            "English (LibriSpeech 960 h)",
            94.4,
        ),
        CatalogEntry(
            "hubert-large",
            "facebook/hubert-large-ll60k",
            KIND_ENCODER,
            "Apache-2.0",
            "English (Libri-Light 60k h)",
            316.6,
        ),
        CatalogEntry(
            "data2vec-audio-base",
            "facebook/data2vec-audio-base",
            KIND_ENCODER,
            "Apache-2.0",
            "English (LibriSpeech 960 h)",
            93.2,
        ),
        CatalogEntry(
            "emotion2vec-plus-base",
            "emotion2vec/emotion2vec_plus_base",
            KIND_EMOTION2VEC,
            "emotion2vec model licence (custom; read it before any commercial use)",
            "multilingual pseudo-labelled emotion data",
            93.0,
            "needs FunASR (pip install funasr); 9 classes incl. 'other' and '<unk>'",
        ),
        CatalogEntry(
            "emotion2vec-plus-large",
            "emotion2vec/emotion2vec_plus_large",
            KIND_EMOTION2VEC,
            "emotion2vec model licence (custom; read it before any commercial use)",
            "multilingual pseudo-labelled emotion data",
            316.0,
            "needs FunASR (pip install funasr); 9 classes incl. 'other' and '<unk>'",
        ),
        CatalogEntry(
            "audeering-dim",
            "audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim",
            KIND_DIMENSIONAL,
            "CC-BY-NC-SA-4.0 (non-commercial)",
            "English (MSP-Podcast)",
            165.0,
            "arousal, dominance, valence in about [0, 1]; 12 of the 24 transformer layers kept",
        ),
        CatalogEntry(
            "superb-er-wav2vec2-base",
            "superb/wav2vec2-base-superb-er",
            KIND_CLASSIFIER,
            "Apache-2.0 weights; trained on IEMOCAP (research release)",
            "English (IEMOCAP)",
            95.0,
            "4 classes: neu, hap, ang, sad",
        ),
        CatalogEntry(
            "superb-er-hubert-large",
            "superb/hubert-large-superb-er",
            KIND_CLASSIFIER,
            "Apache-2.0 weights; trained on IEMOCAP (research release)",
            "English (IEMOCAP)",
            316.6,
            "4 classes: neu, hap, ang, sad",
        ),
    )
}


def catalog_entry(name_or_repo: str) -> CatalogEntry | None:
    """The entry for a short name or a hub id, or None for a model the table does not know."""
    if name_or_repo in CATALOG:
        return CATALOG[name_or_repo]
    return next((e for e in CATALOG.values() if e.repo_id == name_or_repo), None)
