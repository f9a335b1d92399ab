/* fuzz.h: the libFuzzer entry point every tests/fuzz/fuzz_*.c target defines. */
#ifndef REEVE_FUZZ_H
#define REEVE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Run one input; data is borrowed for the call. Returns 0. A broken property aborts
 * (through FUZZ_CHECK), so both libFuzzer and the replay driver see it as a crash.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test, checked in every build (unlike assert). */
#define FUZZ_CHECK(cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
		abort();							\
	}									\
} while (0)

#endif /* REEVE_FUZZ_H */
