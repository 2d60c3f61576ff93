"""What the voice benchmarks that refit the shipped recipe fold by fold share: the corpus and its window features
read as ``train audio`` reads them (from a ``--trained`` folder's feature cache where one is given), and their bad
input ended in one line, as the commands end theirs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.audio.datasets import Corpus, load_corpus  # noqa: E402
from export.audio.extract import WindowTable, extract_windows  # noqa: E402
from export.audio.train import check_cv_folds  # noqa: E402
from runtime.errors import InputError  # noqa: E402

SCRATCH_CACHE = Path("/tmp/emotrace-audio-candidates")  # the features' cache without a --trained folder


def run_report(report: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """``report(args)``, its ``--cv-folds`` checked before the feature work, as train audio checks it; a missing
    corpus or cache folder ends the run in one line."""
    try:
        check_cv_folds(args.cv_folds)
        report(args)
    except InputError as error:
        raise SystemExit(str(error)) from None


def corpus_windows(data: Path, trained: Path | None) -> tuple[Corpus, Path, WindowTable]:
    """The corpus under ``data``, the feature cache used and the corpus's window features."""
    corpus = load_corpus(data)
    cache = (trained or SCRATCH_CACHE) / "cache"
    return corpus, cache, extract_windows(corpus.clips, cache_dir=cache)
