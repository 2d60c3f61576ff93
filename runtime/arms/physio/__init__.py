"""The physiological arm: recorded or live wearable signals -> windowed features -> stress track."""
