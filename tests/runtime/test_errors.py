from runtime.errors import first_line


def test_first_line_keeps_the_first_line_of_a_long_message():
    assert first_line(RuntimeError("\n  shape mismatch at node 3\nstack trace ...\n")) == "shape mismatch at node 3"


def test_first_line_of_an_empty_message_is_the_error_type():
    assert first_line(EOFError()) == "EOFError"
    assert first_line(OSError("  \n")) == "OSError"


def test_first_line_is_cut_to_max_chars_unless_none():
    error = ValueError("x" * 300)
    assert first_line(error) == "x" * 120
    assert first_line(error, 160) == "x" * 160
    assert first_line(error, max_chars=None) == "x" * 300
