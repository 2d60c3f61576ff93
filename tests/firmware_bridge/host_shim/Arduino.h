// Just enough of the Arduino API to run the reference sketch on the host: time advances by 1 ms per
// micros() poll step, Serial.write goes to stdout, the ADC returns fixed mid-scale values.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
using std::isnan;
static const uint8_t A0 = 0, A1 = 1, A2 = 2;
extern uint32_t shim_us;
inline uint32_t micros() { return shim_us; }
inline uint32_t millis() { return shim_us / 1000; }
inline int analogRead(uint8_t pin) { return pin == 0 ? 300 : pin == 1 ? 512 : 160; }
struct ShimSerial {
  void begin(long) {}
  explicit operator bool() const { return true; }
  size_t write(const uint8_t *data, size_t n) { return fwrite(data, 1, n, stdout); }
};
extern ShimSerial Serial;
