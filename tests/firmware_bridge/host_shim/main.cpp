// Runs the sketch for the number of simulated milliseconds given on the command line.
#include <cstdlib>
#include "Arduino.h"
uint32_t shim_us = 0;
ShimSerial Serial;
void setup();
void loop();
int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 1000;
  setup();
  for (long step = 0; step < ms * 10; step++) {
    shim_us += 100;
    loop();
  }
  return 0;
}
