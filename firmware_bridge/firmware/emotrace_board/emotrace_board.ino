// emotrace reference sensor board: EDA (GSR), PPG and skin temperature over USB serial.
//
// Speaks the emotrace serial protocol v1 (docs/serial-protocol.md):
//   0xA5 0x5A | version u8 | type u8 | seq u16 | board_ms u32 | length u8 | payload | crc u16
// little-endian; crc = CRC-16/CCITT-FALSE over version..payload. DATA payload: (channel u8, float32)*.
// PPG goes out at 64 Hz, EDA and temperature at 4 Hz (every 16th frame), a HELLO frame every 5 s.
//
// Wiring (any 5 V / 3.3 V Arduino-compatible board with a 10-bit ADC, e.g. Uno, Nano, Leonardo):
//   A0  GSR module output (Grove GSR style: a voltage divider with the skin)
//   A1  analog PPG sensor output (PulseSensor style)
//   A2  TMP36 skin temperature sensor, taped to the skin

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
static const float GSR_SERIES_OHM = 10000.0f;    // the module's fixed resistor

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
  // The skin is the upper arm of a divider with GSR_SERIES_OHM: G = V / (R * (Vref - V)).
  float v = readVolts(A0);
  if (v >= ADC_REF_V - 0.01f) return NAN;  // open circuit: no skin contact
  return 1e6f * v / (GSR_SERIES_OHM * (ADC_REF_V - v));
}

float readTempCelsius() { return (readVolts(A2) - 0.5f) * 100.0f; }  // TMP36: 10 mV/degC, 500 mV at 0 degC

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
  int32_t lateUs = (int32_t)(micros() - nextFrameUs);
  if (lateUs < 0) return;
  // Held up for whole frame periods (a native-USB port whose host stopped reading blocks Serial.write): those
  // readings were never taken. Their slots and seq numbers are skipped, so the host records a gap, rather than
  // sending a burst of readings taken together that the host would place a period apart.
  uint32_t missed = (uint32_t)lateUs / FRAME_PERIOD_US;
  nextFrameUs += (missed + 1) * FRAME_PERIOD_US;
  seq += missed;
  slowCounter += missed;  // EDA and temperature stay on their own slots
  uint8_t payload[15];
  size_t n = putReading(payload, 0, CH_BVP, readVolts(A1));
  if (slowCounter++ % SLOW_DIVIDER == 0) {
    float eda = readEdaMicrosiemens();
    if (!isnan(eda)) n = putReading(payload, n, CH_EDA, eda);  // no contact: nothing sent, the host sees a gap
    n = putReading(payload, n, CH_TEMP, readTempCelsius());
  }
  sendFrame(TYPE_DATA, payload, (uint8_t)n);
  if (millis() - lastHelloMs >= HELLO_PERIOD_MS) {
    sendHello();
    lastHelloMs = millis();
  }
}
