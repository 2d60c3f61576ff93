"""What every export's card.json is checked for: written as ``export.install.write_card`` writes it, and one the
runtime's loader accepts with each model file matching its checksum."""

from __future__ import annotations

import json
import re
from pathlib import Path

from runtime.models.card import ModelCard, load_card, verify_checksum

DATED_VERSION = re.compile(r"\d{4}\.\d{2}\.\d{2}(-[0-9a-f]{8})?")  # export.install.model_version


def assert_card_as_exports_write_it(folder: Path, dated: bool = True) -> ModelCard:
    """The card in ``folder``, checked; ``dated``: its version is the export's date (and digest)."""
    text = (Path(folder) / "card.json").read_text()
    assert text == json.dumps(json.loads(text), indent=1) + "\n"  # one format, whichever export wrote it
    card = load_card(folder)
    for variant in card.files:
        verify_checksum(card, variant)
    if dated:
        assert DATED_VERSION.fullmatch(card.version), card.version
    return card
