"""Finding a BLE sensor by name or address, and telling a machine without Bluetooth (docs/physio.md, "Live sensors"):
bleak's scanner stood in for by its filter applied to advertised devices."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from firmware_bridge.ble import BleakGattClient, bluetooth_problem
from firmware_bridge.runner import LinkThreads


class _Client:
    """bleak's BleakClient, connecting to whatever device it is given."""

    connected_to: list = []

    def __init__(self, device, *args, **kwargs):
        self.device, self.is_connected = device, False

    async def connect(self):
        _Client.connected_to.append(self.device)
        self.is_connected = True


def _advertising(monkeypatch, *devices):
    import bleak

    async def find(filter_, timeout=10.0, **_kwargs):
        return next((device for device, adv in devices if filter_(device, adv)), None)

    monkeypatch.setattr(bleak.BleakScanner, "find_device_by_filter", staticmethod(find))
    monkeypatch.setattr(bleak, "BleakClient", _Client)
    _Client.connected_to = []


STRAP = (SimpleNamespace(address="A0:9E:1A:12:34:56", name=None), SimpleNamespace(local_name="Polar H10 123456"))
OTHER = (SimpleNamespace(address="11:22:33:44:55:66", name="Kitchen speaker"), SimpleNamespace(local_name=None))


def test_a_sensor_given_by_address_is_found_whatever_the_case_of_its_hex_digits(monkeypatch):
    _advertising(monkeypatch, OTHER, STRAP)
    asyncio.run(BleakGattClient(address="a0:9e:1a:12:34:56").connect())
    assert _Client.connected_to == [STRAP[0]]


def test_a_sensor_that_names_itself_only_in_its_advertisement_is_found_by_that_name(monkeypatch):
    _advertising(monkeypatch, OTHER, STRAP)
    asyncio.run(BleakGattClient(name="Polar H10 123456").connect())
    assert _Client.connected_to == [STRAP[0]]


def test_d_bus_without_bluez_is_said_as_bluetooth_not_available(monkeypatch):
    import bleak
    from bleak.exc import BleakDBusError

    async def discover(*_args, **_kwargs):
        raise BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown",
                             ["The name org.bluez was not provided by any .service files"])

    monkeypatch.setattr(bleak.BleakScanner, "discover", staticmethod(discover))
    assert bluetooth_problem().startswith("Bluetooth is not available here (no BlueZ service: ")


def test_a_disconnect_that_hangs_is_let_go_within_the_time_a_session_gives_its_link_threads():
    # the hanging disconnect itself: test_a_disconnect_that_hangs_does_not_hold_the_session_past_its_stop
    import inspect

    import firmware_bridge.ble as ble

    session_wait_s = inspect.signature(LinkThreads.stop).parameters["timeout_s"].default
    assert 0 < ble.DISCONNECT_WAIT_S < session_wait_s
