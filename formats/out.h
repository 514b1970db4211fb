/*
 * out.h - output helpers shared by the renderers in formats/.
 */
#ifndef FS_OUT_H
#define FS_OUT_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* Print `doc` (indented, newline-terminated) and free it; doc may be NULL
 * (out of memory while building it). */
int fs_json_write(cJSON *doc, FILE *fp);

#endif
