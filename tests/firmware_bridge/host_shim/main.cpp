// Runs the sketch for the number of simulated milliseconds given on the command line; with two more numbers,
// the loop is held up once, at the first (ms) for the second (ms), as a blocking call inside loop() would.
#include <cstdlib>
#include "Arduino.h"
uint32_t shim_us = 0;
ShimSerial Serial;
void setup();
void loop();
int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 1000;
  long stallAtMs = argc > 3 ? atol(argv[2]) : -1;
  long stallMs = argc > 3 ? atol(argv[3]) : 0;
  setup();
  for (long step = 0; step < ms * 10; step++) {
    shim_us += 100;
    if (stallAtMs >= 0 && shim_us >= (uint32_t)stallAtMs * 1000) {
      shim_us += (uint32_t)stallMs * 1000;
      stallAtMs = -1;
    }
    loop();
  }
  return 0;
}
