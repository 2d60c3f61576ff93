"""Which arm a track's name comes from: 'face-2' (one person's face) is a face track, 'audio' an audio one; fusion
weighs and pairs modalities by it."""

import pytest

from runtime.track import track_family


@pytest.mark.parametrize(("name", "family"), [("face-2", "face"), ("face", "face"), ("audio", "audio"),
                                              ("body-10", "body"), ("physio", "physio")])
def test_a_tracks_family_is_its_name_before_the_first_hyphen(name, family):
    assert track_family(name) == family
