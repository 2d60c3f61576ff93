"""Speech clips for the voice benchmarks: RAVDESS's clips of chosen actors, found as ``train audio`` finds its clips
(``load_corpus``: any audio format it reads, in any folder layout), and an even spread of any folder's clips."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.audio.datasets import Clip, load_corpus  # noqa: E402
from runtime.errors import InputError  # noqa: E402
from runtime.files import missing_input, node_kind  # noqa: E402


def actors_named(actors: range) -> str:
    """``actors`` as a line names them: "actor 03", "actors 01-20"."""
    first, last = actors[0], actors[-1]
    return f"actor {first:02d}" if first == last else f"actors {first:02d}-{last:02d}"


def ravdess_clips(corpus: Path, actors: range) -> list[Clip]:
    """The RAVDESS speech clips of ``actors`` under ``corpus``, sorted by path; a folder without any ends the run in
    one line naming it."""
    if not corpus.exists():
        raise SystemExit(str(missing_input(corpus, "folder (RAVDESS's, holding Actor_01 ... Actor_24)")))
    if not corpus.is_dir():
        raise SystemExit(f"{corpus}: is {node_kind(corpus)}; give RAVDESS's folder, holding Actor_01 ... Actor_24")
    try:
        found = load_corpus(corpus)
    except InputError as error:
        raise SystemExit(str(error)) from None
    speakers = {f"ravdess-{actor:02d}" for actor in actors}
    clips = sorted((clip for clip in found.clips if clip.corpus == "ravdess" and clip.speaker in speakers),
                   key=lambda clip: clip.path)
    if not clips:
        named = actors_named(actors)
        raise SystemExit(f"{corpus}: no RAVDESS speech clips of {named} (audio files named 03-01-EE-II-SS-RR-AA, "
                         f"AA {named.split()[-1]})")
    return clips


def spread_clip_paths(folder: Path, count: int) -> list[Path]:
    """Every n-th WAV or FLAC file under ``folder`` (sorted by path), ``count`` in all: a sample across its
    speakers and emotions for the benchmarks that need only some speech."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    return paths[:: max(1, len(paths) // count)][:count]
