// Runs the sketch for the number of simulated milliseconds given on the command line; with two more numbers,
// the loop is held up once besides, at the first (ms after power-up) for the second (ms), as a blocking call
// inside loop() would. Environment: SHIM_START_US, the clock at power-up (to bring a wrap near); SHIM_ADC, "A0,A1,A2" readings
// (default a skin's GSR, mid-scale PPG, a TMP36 at 28 degC); SHIM_NOISE_LSB, ADC noise of up to that many steps.
#include <cstdlib>
#include "Arduino.h"
uint64_t shim_us = 0;
int shim_adc[3] = {300, 512, 160};
int shim_noise_lsb = 0;
ShimSerial Serial;
void setup();
void loop();
int main(int argc, char **argv) {
  long long ms = argc > 1 ? atoll(argv[1]) : 1000;
  long long stallAtMs = argc > 3 ? atoll(argv[2]) : -1;
  uint64_t stallUs = argc > 3 ? strtoull(argv[3], nullptr, 10) * 1000 : 0;
  uint64_t start = getenv("SHIM_START_US") ? strtoull(getenv("SHIM_START_US"), nullptr, 10) : 0;
  if (getenv("SHIM_ADC")) sscanf(getenv("SHIM_ADC"), "%d,%d,%d", &shim_adc[0], &shim_adc[1], &shim_adc[2]);
  if (getenv("SHIM_NOISE_LSB")) shim_noise_lsb = atoi(getenv("SHIM_NOISE_LSB"));
  shim_us = start;
  setup();
  for (uint64_t end = start + (uint64_t)ms * 1000 + stallUs; shim_us < end;) {  // ms of running, the hold-up aside
    shim_us += 100;
    if (stallAtMs >= 0 && shim_us >= start + (uint64_t)stallAtMs * 1000) {
      shim_us += stallUs;
      stallAtMs = -1;
    }
    loop();
  }
  return 0;
}
