import os

from runtime.native import native_stderr


def test_native_stderr_writes_back_the_kept_lines_and_hands_over_the_others(capfd):
    with native_stderr(keep=lambda line: not line.startswith("INFO")) as dropped:
        os.write(2, b"ERROR: a native error\nINFO: chatter\r\nthe end, unterminated")
    assert capfd.readouterr().err == "ERROR: a native error\nthe end, unterminated"
    assert dropped == ["INFO: chatter"]


def test_native_stderr_is_restored_when_the_call_inside_raises(capfd):
    try:
        with native_stderr(keep=lambda line: True):
            os.write(2, b"said before the failure\n")
            raise RuntimeError("the native call failed")
    except RuntimeError:
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "said before the failure\nafter\n"
