"""Sensor links: BLE heart-rate sensors and thermometers (bleak), a serial sensor board (pyserial), the board's
firmware.

Every link delivers ``Sample``/``Gap``/``Status`` events on the session clock (``firmware_bridge.link``).
"""
