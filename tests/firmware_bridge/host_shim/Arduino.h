// Just enough of the Arduino API to run the reference sketch on the host: time advances by 100 us per loop() poll
// (main.cpp), Serial.write goes to stdout. The clocks come from one 64-bit microsecond count, as on an AVR, so that
// micros() wraps at 2^32 us (71.6 min) and millis() at 2^32 ms (49.7 days), each on its own. The ADC returns
// fixed values (main.cpp sets them), each off by up to shim_noise_lsb from a fixed-seed generator where set.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
using std::isnan;
static const uint8_t A0 = 0, A1 = 1, A2 = 2;
extern uint64_t shim_us;
extern int shim_adc[3];
extern int shim_noise_lsb;
inline uint32_t micros() { return (uint32_t)shim_us; }
inline uint32_t millis() { return (uint32_t)(shim_us / 1000); }
inline int analogRead(uint8_t pin) {
  static uint32_t lcg = 12345;
  if (!shim_noise_lsb) return shim_adc[pin];
  lcg = lcg * 1103515245u + 12345u;
  int v = shim_adc[pin] + (int)((lcg >> 16) % (2 * shim_noise_lsb + 1)) - shim_noise_lsb;
  return v < 0 ? 0 : v > 1023 ? 1023 : v;
}
struct ShimSerial {
  void begin(long) {}
  explicit operator bool() const { return true; }
  size_t write(const uint8_t *data, size_t n) { return fwrite(data, 1, n, stdout); }
};
extern ShimSerial Serial;
