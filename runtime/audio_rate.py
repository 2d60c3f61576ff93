"""The one sample rate the voice side reads, kept in a module that imports nothing, so that settings, decoding,
the voice-activity detector and the command line can all name it without loading one another."""

# The voice-activity detector and the audio models run on 16 kHz audio; the input is resampled to this rate.
AUDIO_RATE_HZ = 16000
# The rates extract-audio writes: what a WAV player or recorder is asked to handle.
EXTRACT_RATES_HZ = (1000, 192000)
