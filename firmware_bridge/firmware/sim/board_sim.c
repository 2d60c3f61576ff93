// Runs a firmware ELF on a simulated ATmega328P at 16 MHz (simavr): the sensor voltages go into its ADC, and
// every byte its UART0 sends comes out on stdout, unchanged, as a serial port would deliver it.
//
//   board_sim FIRMWARE.elf MS A0_MV PPG_MEAN_MV PPG_SWING_MV PPG_HZ A2_MV
//
// A0 (GSR divider) and A2 (TMP36) hold constant voltages; A1 (the PPG) is a sine of PPG_SWING_MV around
// PPG_MEAN_MV at PPG_HZ, updated every 0.5 ms. Exits 0 after MS simulated milliseconds, 1 if the firmware
// cannot be loaded, 2 if the simulated MCU stops or crashes before.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_time.h"

static const uint32_t PPG_STEP_US = 500;

struct ppg {
  avr_irq_t *adc;
  double mean_mv, swing_mv, hz;
};

static void uart_byte_out(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  (void)param;
  unsigned char byte = (unsigned char)value;
  fwrite(&byte, 1, 1, stdout);
}

// simavr's own messages ("Loaded 3484 .text ...") go to stderr: stdout carries the serial bytes alone.
static void log_to_stderr(avr_t *avr, const int level, const char *format, va_list args) {
  (void)avr;
  if (level <= LOG_WARNING) vfprintf(stderr, format, args);
}

static avr_cycle_count_t ppg_step(avr_t *avr, avr_cycle_count_t when, void *param) {
  struct ppg *ppg = param;
  double t_s = (double)when / avr->frequency;
  double mv = ppg->mean_mv + ppg->swing_mv * sin(2.0 * M_PI * ppg->hz * t_s);
  avr_raise_irq(ppg->adc, (uint32_t)lround(mv));
  return when + avr_usec_to_cycles(avr, PPG_STEP_US);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s FIRMWARE.elf MS A0_MV PPG_MEAN_MV PPG_SWING_MV PPG_HZ A2_MV\n", argv[0]);
    return 1;
  }
  avr_global_logger_set(log_to_stderr);
  elf_firmware_t firmware = {0};
  if (elf_read_firmware(argv[1], &firmware) != 0) {
    fprintf(stderr, "%s: not a readable AVR ELF\n", argv[1]);
    return 1;
  }
  snprintf(firmware.mmcu, sizeof(firmware.mmcu), "atmega328p");
  firmware.frequency = 16000000;
  avr_t *avr = avr_make_mcu_by_name(firmware.mmcu);
  if (avr == NULL || avr_init(avr) != 0) {
    fprintf(stderr, "simavr has no %s\n", firmware.mmcu);
    return 1;
  }
  avr_load_firmware(avr, &firmware);
  avr->avcc = avr->aref = avr->vcc = 5000;  // a 5 V Uno: analogRead's default reference is AVcc

  uint32_t flags = 0;  // raw bytes on stdout, not simavr's line printer
  avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~AVR_UART_FLAG_STDIO;
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_byte_out, NULL);

  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), (uint32_t)atol(argv[3]));
  avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC2), (uint32_t)atol(argv[7]));
  struct ppg ppg = {avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC1), atof(argv[4]), atof(argv[5]),
                    atof(argv[6])};
  avr_cycle_timer_register_usec(avr, PPG_STEP_US, ppg_step, &ppg);

  avr_cycle_count_t end = (avr_cycle_count_t)atol(argv[2]) * (avr->frequency / 1000);
  while (avr->cycle < end) {
    int state = avr_run(avr);
    if (state == cpu_Done || state == cpu_Crashed) {
      fprintf(stderr, "the simulated MCU stopped at cycle %llu (state %d)\n", (unsigned long long)avr->cycle, state);
      return 2;
    }
  }
  fflush(stdout);
  return 0;
}
