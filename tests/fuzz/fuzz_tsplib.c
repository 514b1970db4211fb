/*
 * fuzz_tsplib - libFuzzer target for the TSPLIB95 reader of tools/tsplib.c.
 * The reader reports a bad file with die(), which exits: here exit() jumps
 * back instead, and the FILE it had open is closed (the line buffer of a
 * rejected file is leaked: run with -detect_leaks=0).
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static jmp_buf fuzz_jmp;
static FILE *fuzz_open_file;

static FILE *fuzz_fopen(const char *p, const char *m)
{
	return fuzz_open_file = fopen(p, m);
}

static int fuzz_fclose(FILE *f)
{
	fuzz_open_file = NULL;
	return fclose(f);
}

#define main tsplib_main
#define exit(code) longjmp(fuzz_jmp, 1 + (code))
#define fopen fuzz_fopen
#define fclose fuzz_fclose
#include "../../tools/tsplib.c"
#undef main
#undef exit
#undef fopen
#undef fclose

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("tsp", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct inst in;
	memset(&in, 0, sizeof in);
	if (!setjmp(fuzz_jmp)) {
		read_tsp(path, &in);
		if (in.n < 1)
			abort();
	}
	if (fuzz_open_file)
		fclose(fuzz_open_file);
	fuzz_open_file = NULL;
	free(in.x);
	free(in.y);
	close(fd);
	return 0;
}
