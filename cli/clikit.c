/* clikit.c - option scanner, command table and suggestions (see clikit.h). */
#include "clikit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int kit_usage(const char *prog, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see '%s %s%s--help')\n", prog, cmd ? cmd : "", cmd ? " " : "");
	return KIT_USAGE;
}

/* Optimal string alignment distance (Levenshtein plus swapped neighbours),
 * or a number past `cap` when it is larger. */
static size_t distance(const char *s, const char *t, size_t cap)
{
	size_t m = strlen(s), n = strlen(t);
	if (m > 63 || n > 63 || (m > n ? m - n : n - m) > cap)
		return cap + 1;
	size_t d[64][64];
	for (size_t i = 0; i <= m; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= n; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= m; i++)
		for (size_t j = 1; j <= n; j++) {
			size_t c = s[i - 1] != t[j - 1];
			size_t v = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[m][n];
}

const char *kit_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), cap = len <= 2 ? 0 : len <= 4 ? 1 : 2, best = cap + 1;
	const char *pick = NULL, *prefixed = NULL;
	int nprefixed = 0;
	if (!len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i] || !strcmp(cands[i], word))
			continue;
		if (len >= 2 && !strncmp(cands[i], word, len)) {
			if (!prefixed || strcmp(prefixed, cands[i]))
				nprefixed++;
			prefixed = cands[i];
		}
		size_t d = distance(word, cands[i], cap);
		if (d < best) {
			best = d;
			pick = cands[i];
		}
	}
	if (pick)
		return pick;
	return nprefixed == 1 ? prefixed : NULL;
}

void kit_args_init(struct kit_args *a, const char *prog, const char *cmd, int argc, char **argv, int first,
		   const struct kit_globals *globals, void *ctx)
{
	memset(a, 0, sizeof *a);
	a->prog = prog;
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->i = first;
	a->globals = globals;
	a->ctx = ctx;
}

int kit_next(struct kit_args *a)
{
	for (;;) {
		a->opt = a->inl = a->word = NULL;
		a->ntried = 0;
		if (a->bad || a->i >= a->argc)
			return 0;
		const char *s = a->argv[a->i++];
		if (!a->words_only && !strcmp(s, "--")) {
			a->words_only = 1;
			continue;
		}
		if (a->words_only || s[0] != '-' || s[1] != '-' || !s[2]) {
			a->word = s;
			return 2;
		}
		const char *eq = strchr(s + 2, '=');
		size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
		if (n >= sizeof a->name)
			n = sizeof a->name - 1;
		memcpy(a->name, s + 2, n);
		a->name[n] = '\0';
		a->opt = a->name;
		a->inl = eq ? eq + 1 : NULL;
		if (a->globals && a->globals->take) {
			int t = a->globals->take(a);
			if (t < 0) {
				a->bad = 1;
				return 0;
			}
			if (t > 0)
				continue;
		}
		return 1;
	}
}

const char *kit_value(struct kit_args *a)
{
	if (a->inl)
		return a->inl;
	if (a->i >= a->argc) {
		kit_usage(a->prog, a->cmd, "--%s needs a value", a->opt);
		a->bad = 1;
		return NULL;
	}
	return a->argv[a->i++];
}

int kit_is(struct kit_args *a, const char *name)
{
	if (!a->opt)
		return 0;
	if (a->ntried < KIT_MAX_TRIED)
		a->tried[a->ntried++] = name;
	return !strcmp(a->opt, name);
}

int kit_flag(struct kit_args *a, const char *name)
{
	if (!kit_is(a, name))
		return 0;
	if (a->inl) {
		if (!a->bad)
			kit_usage(a->prog, a->cmd, "--%s takes no value", name);
		a->bad = 1;
		return 0;
	}
	return 1;
}

int kit_take(struct kit_args *a, const char *name, const char **v)
{
	return kit_is(a, name) && (*v = kit_value(a)) != NULL;
}

int kit_unknown(struct kit_args *a)
{
	if (a->bad)
		return KIT_USAGE;
	a->bad = 1;
	if (!a->opt)
		return kit_usage(a->prog, a->cmd, "unexpected argument '%s'", a->word ? a->word : "");
	const char *cands[KIT_MAX_TRIED + 16];
	size_t n = 0;
	for (int i = 0; i < a->ntried; i++)
		cands[n++] = a->tried[i];
	for (size_t i = 0; a->globals && a->globals->names && a->globals->names[i] && n < sizeof cands / sizeof *cands; i++)
		cands[n++] = a->globals->names[i];
	const char *s = kit_suggest(a->opt, cands, n);
	if (s)
		return kit_usage(a->prog, a->cmd, "unknown option --%s (did you mean --%s?)", a->opt, s);
	return kit_usage(a->prog, a->cmd, "unknown option --%s", a->opt);
}

/* "a, b or c" */
static void list_names(char *buf, size_t cap, const char *const *names)
{
	size_t n = 0, k = 0;
	buf[0] = '\0';
	while (names[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + k, cap - k, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
		if (w < 0 || (size_t)w >= cap - k)
			break;
		k += (size_t)w;
	}
}

int kit_sub(struct kit_args *a, const char *const *names)
{
	char known[512];
	size_t n = 0;
	while (names[n])
		n++;
	list_names(known, sizeof known, names);
	int k = kit_next(a);
	if (k == 0) {
		if (!a->bad)
			kit_usage(a->prog, a->cmd, "%s what? %s", a->cmd, known);
		a->bad = 1;
		return -1;
	}
	if (k == 1) {
		kit_usage(a->prog, a->cmd, "%s: a subcommand first (%s), then --%s", a->cmd, known, a->opt);
		a->bad = 1;
		return -1;
	}
	int i = kit_pick(a->prog, a->cmd, a->word, names);
	if (i < 0)
		a->bad = 1;
	return i;
}

int kit_pick(const char *prog, const char *cmd, const char *word, const char *const *names)
{
	char known[512];
	size_t n = 0;
	while (names[n])
		n++;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return (int)i;
	const char *s = kit_suggest(word, names, n);
	if (s) {
		kit_usage(prog, cmd, "unknown subcommand '%s %s' (did you mean '%s %s'?)", cmd, word, cmd, s);
		return -1;
	}
	list_names(known, sizeof known, names);
	kit_usage(prog, cmd, "unknown subcommand '%s %s' (%s)", cmd, word, known);
	return -1;
}

/* ---- commands ---- */

static int has_alias(const char *aliases, const char *name)
{
	size_t l = strlen(name);
	for (const char *p = aliases; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == l && !strncmp(p, name, l))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

const struct kit_cmd *kit_find(const char *prog, const struct kit_cmd *cmds, size_t n, const char *name)
{
	const char *names[128];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cmds[i].name, name) || has_alias(cmds[i].aliases, name))
			return &cmds[i];
	for (size_t i = 0; i < n && k < sizeof names / sizeof *names; i++)
		names[k++] = cmds[i].name;
	const char *s = kit_suggest(name, names, k);
	if (s)
		kit_usage(prog, NULL, "unknown command '%s' (did you mean '%s'?)", name, s);
	else
		kit_usage(prog, NULL, "unknown command '%s'", name);
	return NULL;
}

int kit_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int kit_run(const char *prog, const struct kit_cmd *cmds, size_t n, void *ctx, int argc, char **argv)
{
	const struct kit_cmd *c = kit_find(prog, cmds, n, argv[0]);
	if (!c)
		return KIT_USAGE;
	if (c->help && kit_wants_help(argc, argv)) {
		fputs(c->help, stdout);
		return 0;
	}
	return c->fn(ctx, argc, argv);
}
