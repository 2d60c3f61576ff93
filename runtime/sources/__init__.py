"""Sources: timestamped chunks on the session clock. A recorded file and a live device share one interface."""
