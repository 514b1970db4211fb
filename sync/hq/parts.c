/* parts.c - the parts fieldsyncd is made of, put together: the replica and
 * the dashboard's tables. The one file that knows them all. */
#include "hq.h"
#include "web.h"

int hq_init(const char *conninfo)
{
	static const struct hq_part *const parts[] = { &hq_web_part, NULL };
	return hq_init_parts(conninfo, parts);
}
