/*
 * tsplib.h - the TSPLIB95 reader: a symmetric TSP with NODE_COORD_SECTION
 * and EDGE_WEIGHT_TYPE EUC_2D, ATT or GEO (what the route planner is
 * measured against, tools/tsplib.c and make bench-route).
 */
#ifndef FS_TSPLIB_H
#define FS_TSPLIB_H

#include <stddef.h>
#include "route.h"

#define FS_TSPLIB_MAX_CITIES 10000000L

struct fs_tsplib {
	char name[128];		/* NAME without ".tsp", else the file's base name */
	enum fs_route_metric metric;
	size_t n;
	double *x, *y;		/* n each, by city id - 1 */
};

/*
 * Read `path` into *t. Returns 0, or -1 with the reason in err (e.g.
 * "line 12: city id 7 appears twice"); on failure nothing stays allocated.
 * Free a read instance with fs_tsplib_free().
 */
int fs_tsplib_read(const char *path, struct fs_tsplib *t, char *err, size_t errlen);
void fs_tsplib_free(struct fs_tsplib *t);

#endif
