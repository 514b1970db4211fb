/*
 * tsplib.c - the TSPLIB95 reader (see tsplib.h). Every refusal names the
 * line and what is wrong with it; the file is read once, line by line.
 */
#include "tsplib.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); goto out; } while (0)

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A whole unsigned decimal number, nothing else. */
static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Next coordinate field: a finite number followed by space or the end. */
static int parse_coord(char **s, double *out)
{
	char *end;
	double v;
	while (isspace((unsigned char)**s))
		(*s)++;
	if (!**s)
		return -1;
	errno = 0;
	v = strtod(*s, &end);
	if (end == *s || errno || !isfinite(v) || (*end && !isspace((unsigned char)*end)))
		return -1;
	*s = end;
	*out = v;
	return 0;
}

int fs_tsplib_read(const char *path, struct fs_tsplib *in, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *key, *val, *colon, *s;
	size_t cap = 0, got = 0, lineno = 0;
	unsigned char *seen = NULL;
	long dim = -1, id;
	int have_type = 0, in_coords = 0, ended = 0, rc = -1;

	memset(in, 0, sizeof *in);
	if (!f)
		FAIL("cannot read: %s", strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		s = trim(line);
		if (!*s)
			continue;
		if (!strcmp(s, "EOF")) {
			ended = 1;
			break;
		}
		if (in_coords) {
			double x, y;
			char *p = s, *end;
			if (got == (size_t)dim)
				FAIL("line %zu: more than DIMENSION = %ld coordinates", lineno, dim);
			errno = 0;
			id = strtol(p, &end, 10);
			if (end == p || errno || (*end && !isspace((unsigned char)*end)))
				FAIL("line %zu: bad city id", lineno);
			if (id < 1 || id > dim)
				FAIL("line %zu: city id %ld is outside 1..%ld", lineno, id, dim);
			if (seen[id - 1])
				FAIL("line %zu: city id %ld appears twice", lineno, id);
			p = end;
			if (parse_coord(&p, &x) || parse_coord(&p, &y))
				FAIL("line %zu: city %ld: coordinates are not two numbers", lineno, id);
			if (*trim(p))
				FAIL("line %zu: city %ld: junk after the coordinates", lineno, id);
			seen[id - 1] = 1;
			in->x[id - 1] = x;
			in->y[id - 1] = y;
			got++;
			continue;
		}
		if (!strcmp(s, "NODE_COORD_SECTION")) {
			if (dim < 0)
				FAIL("NODE_COORD_SECTION before DIMENSION");
			if (!have_type)
				FAIL("NODE_COORD_SECTION before EDGE_WEIGHT_TYPE");
			in_coords = 1;
			continue;
		}
		colon = strchr(s, ':');
		if (!colon) {
			if (strstr(s, "_SECTION"))
				FAIL("line %zu: %s is not supported", lineno, s);
			FAIL("line %zu: expected KEY : value", lineno);
		}
		*colon = '\0';
		key = trim(s);
		val = trim(colon + 1);
		if (!strcmp(key, "NAME")) {
			size_t l = strlen(val);
			if (l > 4 && !strcmp(val + l - 4, ".tsp"))
				val[l - 4] = '\0';
			snprintf(in->name, sizeof in->name, "%s", val);
		} else if (!strcmp(key, "TYPE")) {
			if (strcmp(val, "TSP"))
				FAIL("TYPE %s is not supported (only TSP)", val);
		} else if (!strcmp(key, "DIMENSION")) {
			if (dim >= 0)
				FAIL("DIMENSION given twice");
			if (parse_count(val, FS_TSPLIB_MAX_CITIES, &dim) || dim < 1)
				FAIL("DIMENSION '%s' is not a number in 1..%ld", val, FS_TSPLIB_MAX_CITIES);
			if (!(in->x = malloc((size_t)dim * sizeof *in->x)))
				FAIL("out of memory");
			in->y = malloc((size_t)dim * sizeof *in->y);
			seen = calloc((size_t)dim, 1);
			if (!in->x || !in->y || !seen)
				FAIL("out of memory");
		} else if (!strcmp(key, "EDGE_WEIGHT_TYPE")) {
			if (!strcmp(val, "EUC_2D"))
				in->metric = FS_ROUTE_EUC_2D;
			else if (!strcmp(val, "ATT"))
				in->metric = FS_ROUTE_ATT;
			else if (!strcmp(val, "GEO"))
				in->metric = FS_ROUTE_GEO;
			else
				FAIL("EDGE_WEIGHT_TYPE %s is not supported (EUC_2D, ATT, GEO)", val);
			have_type = 1;
		} else if (!strcmp(key, "NODE_COORD_TYPE")) {
			if (strcmp(val, "TWOD_COORDS"))
				FAIL("NODE_COORD_TYPE %s is not supported", val);
		} else if (!strcmp(key, "EDGE_WEIGHT_FORMAT") || !strcmp(key, "EDGE_DATA_FORMAT")) {
			FAIL("%s is not supported", key);
		}
		/* COMMENT, DISPLAY_DATA_TYPE, CAPACITY and the like: ignored */
	}
	if (ferror(f))
		FAIL("read error: %s", strerror(errno));
	if (dim < 0)
		FAIL("no DIMENSION");
	if (!have_type)
		FAIL("no EDGE_WEIGHT_TYPE");
	if (!in_coords)
		FAIL("no NODE_COORD_SECTION");
	if (got != (size_t)dim)
		FAIL("%zu coordinates for DIMENSION = %ld%s", got, dim, ended ? "" : " (file ends early)");
	in->n = (size_t)dim;
	if (!in->name[0]) {
		const char *b = strrchr(path, '/');
		size_t l;
		snprintf(in->name, sizeof in->name, "%s", b ? b + 1 : path);
		l = strlen(in->name);
		if (l > 4 && !strcmp(in->name + l - 4, ".tsp"))
			in->name[l - 4] = '\0';
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	free(line);
	free(seen);
	if (rc)
		fs_tsplib_free(in);
	return rc;
}

void fs_tsplib_free(struct fs_tsplib *t)
{
	free(t->x);
	free(t->y);
	t->x = t->y = NULL;
	t->n = 0;
}
