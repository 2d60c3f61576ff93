"""Speech is called telephone-band from a high band 36 dB under its telephone band (benchmarks/audio_narrowband.py:
no RAVDESS clip as recorded lies under -32 dB, none low-passed at 3.4 kHz over -40 dB): wideband speech at -33 dB is
not flagged, low-passed speech at -40 dB is."""

import pytest

from runtime.arms.audio.band import sounds_narrowband


@pytest.mark.parametrize(("high_band_db", "narrow"), [(-20.0, False), (-32.0, False), (-33.0, False), (-35.9, False),
                                                      (-36.1, True), (-40.0, True), (-52.4, True), (None, False)])
def test_speech_is_telephone_band_from_36_db_under_its_telephone_band(high_band_db, narrow):
    assert sounds_narrowband(high_band_db) is narrow
