/*
 * clikit.h - the command-line kit every program of fieldsync uses
 * (fieldsync, fieldsyncd and the tools): one option scanner, one command
 * table with a help text per command, one way to say "usage error", and
 * "did you mean" for a mistyped command, subcommand or option.
 *
 * It knows nothing of records or stores (it is plain C over libc), so the
 * agent, built against the public header alone, links it too.
 *
 * Arguments are `--name value`, `--name=value` and words, in any order;
 * after a bare `--` everything is a word. A command's own options are
 * checked with kit_is() in an if-chain: the names it tried are what
 * kit_unknown() suggests from, so a suggestion is always an option the
 * command takes. Usage errors print
 *
 *   PROG: MESSAGE
 *   (see 'PROG CMD --help')
 *
 * on stderr and give exit status 2 (KIT_USAGE).
 */
#ifndef FS_CLIKIT_H
#define FS_CLIKIT_H

#include <stddef.h>
#include <stdio.h>

#define KIT_USAGE 2
#define KIT_MAX_TRIED 48

struct kit_args;

/* Global options a program takes anywhere on its command line: the hook
 * returns 1 after taking the current option (a->opt), 0 if it is not one
 * of them, -1 after a usage error (a missing value). `names` lists them,
 * NULL-terminated, for suggestions. */
struct kit_globals {
	int (*take)(struct kit_args *a);
	const char *const *names;
};

struct kit_args {
	int argc, i;			/* argv[i] is the next to scan */
	char **argv;
	const char *prog, *cmd;		/* for messages: "fieldsync", "customer" */
	const struct kit_globals *globals;
	void *ctx;			/* the program's, for the hook */
	const char *opt;		/* the current option's name, no dashes; NULL for a word */
	const char *inl;		/* its inline value (--name=value), or NULL */
	const char *word;		/* the current word; NULL for an option */
	int bad;			/* a usage error was printed */
	int words_only;			/* after "--" */
	int ntried;
	const char *tried[KIT_MAX_TRIED];
	char name[64];
};

/* Scan argv[first..argc). */
void kit_args_init(struct kit_args *a, const char *prog, const char *cmd, int argc, char **argv, int first,
		   const struct kit_globals *globals, void *ctx);
/* 1: an option (a->opt), 2: a word (a->word), 0: the end, or a usage error
 * already printed (a->bad set). */
int kit_next(struct kit_args *a);
/* The current option's value (inline or the next argument); NULL after a
 * usage error ("--name needs a value"). */
const char *kit_value(struct kit_args *a);
/* Is the current option `name`? (Remembered for kit_unknown.) */
int kit_is(struct kit_args *a, const char *name);
/* kit_is() for an option that takes no value: "--name=x" is refused
 * (a->bad set, usage error printed) and answers 0. */
int kit_flag(struct kit_args *a, const char *name);
/* For options that all take a value: is the current option `name`, with
 * its value now in *v? (A missing value: 0, a->bad set, error printed.) */
int kit_take(struct kit_args *a, const char *name, const char **v);
/* The current option or word was not expected: "unknown option --grde (did
 * you mean --grade?)" or "unexpected argument 'x'". Returns KIT_USAGE. */
int kit_unknown(struct kit_args *a);
/* The next word, as a subcommand: its index in `names` (NULL-terminated),
 * or -1 after a usage error naming the closest ("unknown subcommand 'lst'
 * (did you mean 'list'?)") or saying which are known when none is given. */
int kit_sub(struct kit_args *a, const char *const *names);

/* kit_sub() for a word already taken: its index, or -1 after the same
 * usage error. */
int kit_pick(const char *prog, const char *cmd, const char *word, const char *const *names);

/* "PROG: MESSAGE\n(see 'PROG [CMD ]--help')" on stderr; returns KIT_USAGE. */
int kit_usage(const char *prog, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The candidate closest to `word` when it is close enough to be a typo or
 * an unambiguous beginning; NULL otherwise. */
const char *kit_suggest(const char *word, const char *const *cands, size_t n);

/* ---- commands ---- */
struct kit_cmd {
	const char *name;
	const char *aliases;		/* NULL or "a,b": other names for it */
	const char *summary;		/* one line, for the program's command list */
	const char *help;		/* `PROG CMD --help`; NULL: the command prints its own */
	int (*fn)(void *ctx, int argc, char **argv);	/* argv[0] is the name typed */
};

/* The command named argv[0] (or one of its aliases); NULL after a usage
 * error with a suggestion. */
const struct kit_cmd *kit_find(const char *prog, const struct kit_cmd *cmds, size_t n, const char *name);
/* Run argv[0]: `CMD --help` (or -h) prints its help when it has one (the
 * remaining words are not looked at); otherwise fn runs. */
int kit_run(const char *prog, const struct kit_cmd *cmds, size_t n, void *ctx, int argc, char **argv);
/* Is --help or -h among argv[1..argc) (before a "--")? */
int kit_wants_help(int argc, char **argv);

#endif
