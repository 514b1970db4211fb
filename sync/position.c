/*
 * position.c - where the device is: one fix from gpsd, the standard GPS
 * daemon of Linux laptops and handhelds, through libgps (see
 * fieldsync_position in fieldsync.h). Nothing else in the library talks to
 * gpsd; the agent's `visit log --here` calls this.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gps.h>
#include "fieldsync.h"
#include "util.h"

#define GPSD_DEFAULT "127.0.0.1:2947"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FIELDSYNC_API int fieldsync_position(const char *gpsd, int timeout_ms, double *lat, double *lon)
{
	char host[256], port[16] = "2947";
	struct gps_data_t g;
	if (!gpsd || !*gpsd)
		gpsd = getenv("FIELDSYNC_GPSD");
	if (!gpsd || !*gpsd)
		gpsd = GPSD_DEFAULT;
	const char *colon = strrchr(gpsd, ':');
	if (strlen(gpsd) >= sizeof host || (colon && strlen(colon + 1) >= sizeof port))
		return fs_err(FIELDSYNC_EINVAL, "gpsd address '%.40s' is too long", gpsd);
	snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - gpsd) : (int)strlen(gpsd), gpsd);
	if (colon)
		snprintf(port, sizeof port, "%s", colon + 1);
	if (timeout_ms < 1 || timeout_ms > 600000)
		return fs_err(FIELDSYNC_EINVAL, "a GPS timeout is 1 ms to 10 minutes");
	memset(&g, 0, sizeof g);
	if (gps_open(host, port, &g) != 0)
		return fs_err(FIELDSYNC_ENET, "no gpsd at %s:%s (%s)", host, port, gps_errstr(errno));
	gps_stream(&g, WATCH_ENABLE | WATCH_JSON, NULL);
	int rc = fs_err(FIELDSYNC_ETIMEOUT, "gpsd at %s:%s gave no position within %d ms", host, port, timeout_ms);
	int64_t end = mono_ms() + timeout_ms;
	for (int64_t now = mono_ms(); now < end; now = mono_ms()) {
		if (!gps_waiting(&g, (int)((end - now) * 1000 < 500000 ? (end - now) * 1000 : 500000)))
			continue;
		if (gps_read(&g, NULL, 0) == -1) {
			rc = fs_err(FIELDSYNC_ENET, "gpsd at %s:%s closed the connection", host, port);
			break;
		}
		if ((g.set & MODE_SET) && g.fix.mode >= MODE_2D && isfinite(g.fix.latitude) &&
		    isfinite(g.fix.longitude) && fabs(g.fix.latitude) <= 90 && fabs(g.fix.longitude) <= 180) {
			*lat = g.fix.latitude;
			*lon = g.fix.longitude;
			fs_err_clear();
			rc = 0;
			break;
		}
	}
	gps_stream(&g, WATCH_DISABLE, NULL);
	gps_close(&g);
	return rc;
}
