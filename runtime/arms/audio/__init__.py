"""The audio arm: voice activity, voice-quality measurements and windowed voice-emotion probabilities."""
