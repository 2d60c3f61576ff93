"""Sensor links: BLE heart-rate sensors (bleak), a serial sensor board (pyserial), the board's firmware.

Every link delivers ``Sample``/``Gap``/``Status`` events on the session clock (``firmware_bridge.link``).
"""
