"""A board, or a channel, whose cadence lies between DROPOUT_MIN_S (2 s) and SILENCE_S (6 s) is no dropout at its
own cadence: one short step (two frames sent together) or a timer that jitters must not make every later step a
gap, as the least step did once the floor came down from 6 s to 2 s."""

from tests.firmware_bridge.fakes import board, frame_of, send


def test_a_board_sending_every_three_seconds_after_two_frames_sent_together_leaves_no_gap():
    time, link, recorder = board(latency_s=0.0)
    send(link, time, recorder, frame_of(0, 0, eda=2.0), after_s=0.0)
    send(link, time, recorder, frame_of(1, 100, eda=2.0), after_s=0.1)  # two frames together as it starts
    for i in range(2, 22):  # then one every 3 s, none lost
        send(link, time, recorder, frame_of(i, 100 + 3000 * (i - 1), eda=2.0), after_s=3.0)
    assert recorder.gaps == []


def test_a_temperature_channel_on_a_jittering_timer_beside_a_4_hz_board_leaves_no_gap():
    time, link, recorder = board(latency_s=0.0)
    temp_frames, frame_index = set(), 0
    while frame_index < 400:  # its steps 2.0 s and 4.5 s in turn
        temp_frames.add(frame_index)
        frame_index += 8 if len(temp_frames) % 2 else 18
    for i in range(400):
        readings = {"bvp": 0.5, **({"temp": 33.0} if i in temp_frames else {})}
        send(link, time, recorder, frame_of(i, 250 * i, **readings), after_s=0.25 if i else 0.0)
    assert recorder.gaps == []


def test_a_settled_slow_board_stalling_under_the_silence_limit_but_over_twice_its_step_leaves_a_gap():
    time, link, recorder = board(latency_s=0.0)
    for i in range(20):  # every 2.5 s: settled after 8 steps
        send(link, time, recorder, frame_of(i, 2500 * i, eda=2.0), after_s=2.5 if i else 0.0)
    send(link, time, recorder, frame_of(20, 47_500 + 5_500, eda=2.0), after_s=5.5)  # 5.5 s: > 2 x 2.5, < 6
    assert [(g.start_s, g.end_s) for g in recorder.gaps] == [(47.5, 53.0)]
