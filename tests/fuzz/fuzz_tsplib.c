/*
 * fuzz_tsplib - libFuzzer target for the TSPLIB95 reader (formats/tsplib.c).
 * A file is either read, with every city's coordinates, or refused with a
 * reason; either way nothing stays allocated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tsplib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	struct fs_tsplib t;
	int fd = memfd_create("tsp", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	err[0] = '\0';
	if (fs_tsplib_read(path, &t, err, sizeof err) == 0) {
		if (t.n < 1 || !t.x || !t.y)
			abort();
		fs_tsplib_free(&t);
	} else if (!err[0] || t.x || t.y) {
		abort();	/* a refusal says why and keeps nothing */
	}
	close(fd);
	return 0;
}
