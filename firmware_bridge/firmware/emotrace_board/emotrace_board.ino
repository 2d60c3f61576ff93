// emotrace reference sensor board: EDA (GSR), PPG and skin temperature over USB serial.
//
// Speaks the emotrace serial protocol v1 (docs/serial-protocol.md):
//   0xA5 0x5A | version u8 | type u8 | seq u16 | board_ms u32 | length u8 | payload | crc u16
// little-endian; crc = CRC-16/CCITT-FALSE over version..payload. DATA payload: (channel u8, float32)*.
// PPG goes out at 64 Hz, EDA and temperature at 4 Hz (every 16th frame), a HELLO frame every 5 s.
//
// Wiring (any 5 V / 3.3 V Arduino-compatible board with a 10-bit ADC, e.g. Uno, Nano, Leonardo):
//   A0  Grove GSR v1.2 module output (an op-amp circuit; its potentiometer set so that it reads 512 with no skin)
//   A1  analog PPG sensor output (PulseSensor style)
//   A2  TMP36 skin temperature sensor, taped to the skin, and a 100 kOhm resistor from A2 to GND (so that an
//       unplugged sensor reads 0 V, not a floating value)

#include <Arduino.h>
#include <string.h>

static const uint8_t PROTOCOL_VERSION = 1;
static const uint8_t TYPE_DATA = 0x01;
static const uint8_t TYPE_HELLO = 0x02;
static const uint8_t CH_EDA = 1, CH_BVP = 2, CH_TEMP = 3;
static const uint32_t FRAME_PERIOD_US = 15625;  // 64 Hz
static const uint8_t SLOW_DIVIDER = 16;          // 64 Hz / 16 = 4 Hz for EDA and temperature
static const uint32_t HELLO_PERIOD_MS = 5000;
static const float ADC_REF_V = 5.0f;             // set to 3.3f on a 3.3 V board
static const int GSR_OPEN_READING = 512;         // the Grove GSR with no skin, as calibrated: its conversion's pole
// A reading this close to it is no skin either: the ADC wanders by a bit or two and the potentiometer is set by eye,
// and 509 is 0.15 uS, under any finger's skin conductance (without it, one step of noise sent 0.05 uS, a reading
// the host takes for skin: tests/firmware_bridge/test_reference_firmware.py).
static const int GSR_NO_SKIN_MARGIN = 3;
static const float TMP36_MIN_V = 0.1f;           // the TMP36 at -40 degC, the lowest it gives

static const char BOARD_NAME[] = "emotrace-board-v1";

static uint16_t seq = 0;
static uint32_t nextFrameUs = 0;
static uint32_t lastHelloMs = 0;
static uint8_t slowCounter = 0;

uint16_t crc16CcittFalse(const uint8_t *data, size_t length) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < length; i++) {
    crc ^= (uint16_t)data[i] << 8;
    for (uint8_t bit = 0; bit < 8; bit++) {
      crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
  }
  return crc;
}

void sendFrame(uint8_t type, const uint8_t *payload, uint8_t length) {
  uint8_t frame[2 + 9 + 255 + 2];
  uint32_t boardMs = millis();
  size_t n = 0;
  frame[n++] = 0xA5;
  frame[n++] = 0x5A;
  frame[n++] = PROTOCOL_VERSION;
  frame[n++] = type;
  frame[n++] = seq & 0xFF;
  frame[n++] = seq >> 8;
  for (uint8_t i = 0; i < 4; i++) frame[n++] = (boardMs >> (8 * i)) & 0xFF;
  frame[n++] = length;
  memcpy(frame + n, payload, length);
  n += length;
  uint16_t crc = crc16CcittFalse(frame + 2, n - 2);
  frame[n++] = crc & 0xFF;
  frame[n++] = crc >> 8;
  Serial.write(frame, n);
  seq++;  // wraps at 65536; the host counts modulo 2^16
}

size_t putReading(uint8_t *payload, size_t n, uint8_t channel, float value) {
  payload[n++] = channel;
  memcpy(payload + n, &value, 4);  // AVR and ARM floats are IEEE-754 little-endian
  return n + 4;
}

float readVolts(uint8_t pin) { return analogRead(pin) * ADC_REF_V / 1023.0f; }

float readEdaMicrosiemens() {
  // Seeed's published conversion for the Grove GSR v1.2, from the 10-bit reading r:
  // R = ((1024 + 2 r) * 10000) / (512 - r) ohms, so G = 1e6 / R microsiemens.
  int r = analogRead(A0);
  if (r >= GSR_OPEN_READING - GSR_NO_SKIN_MARGIN) return NAN;  // no skin contact
  return 1e6f * (float)(GSR_OPEN_READING - r) / ((1024.0f + 2.0f * (float)r) * 10000.0f);
}

float readTempCelsius() {
  float v = readVolts(A2);
  if (v < TMP36_MIN_V) return NAN;  // below what a TMP36 gives: unplugged, held at 0 V by the pull-down
  return (v - 0.5f) * 100.0f;       // TMP36: 10 mV/degC, 500 mV at 0 degC
}

void sendHello() { sendFrame(TYPE_HELLO, (const uint8_t *)BOARD_NAME, sizeof(BOARD_NAME) - 1); }

void setup() {
  Serial.begin(115200);
  while (!Serial && millis() < 2000) {
  }
  sendHello();
  lastHelloMs = millis();
  nextFrameUs = micros();
}

void loop() {
  // Unsigned: the next slot is never more than a period ahead, so a difference that would read as further
  // ahead is a hold-up of over 2^31 us (35.8 min), late by that much (a signed one waited 35.6 min more).
  uint32_t nowUs = micros();
  uint32_t lateUs = nowUs - nextFrameUs;
  if (lateUs != 0 && nextFrameUs - nowUs <= FRAME_PERIOD_US) return;
  // Held up for whole frame periods (a native-USB port whose host stopped reading blocks Serial.write): those
  // readings were never taken. Their slots and seq numbers are skipped, so the host records a gap, rather than
  // sending a burst of readings taken together that the host would place a period apart.
  uint32_t missed = lateUs / FRAME_PERIOD_US;
  nextFrameUs += (missed + 1) * FRAME_PERIOD_US;
  seq += missed;
  slowCounter += missed;  // EDA and temperature stay on their own slots
  uint8_t payload[15];
  size_t n = putReading(payload, 0, CH_BVP, readVolts(A1));
  if (slowCounter++ % SLOW_DIVIDER == 0) {
    float eda = readEdaMicrosiemens();
    if (!isnan(eda)) n = putReading(payload, n, CH_EDA, eda);  // no contact: nothing sent, the host sees a gap
    float temp = readTempCelsius();
    if (!isnan(temp)) n = putReading(payload, n, CH_TEMP, temp);  // no sensor: nothing sent
  }
  sendFrame(TYPE_DATA, payload, (uint8_t)n);
  if (millis() - lastHelloMs >= HELLO_PERIOD_MS) {
    sendHello();
    lastHelloMs = millis();
  }
}
