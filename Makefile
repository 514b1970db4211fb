# fieldsync build.
#   make            library (static + shared), fieldsync, fieldsyncd, tools
#   make check      deps + sanitizer build + every test, then a plain build
#   make check-pg   HQ over PostgreSQL: the sync suite, convergence, concurrency
#   make check-upgrade  the last release's binaries against this tree's [UPGRADE_FROM=TAG]
#   make demo       deps + build + the narrated end-to-end run
#   make bench      benchmark figures (bench/results.json)
#   make bench-route  route planner against the TSPLIB instances
# Objects go under $(BUILD); BUILD=build/asan SAN=1 gives the sanitizer tree.

BUILD   ?= build
SAN     ?=
CC      ?= cc
PKGS_LIB = sqlite3 libcurl libcjson zlib libsodium libgps
PKGS_HQ  = libmicrohttpd libpq

CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
CFLAGS_BASE = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden \
	$(shell pkg-config --cflags $(PKGS_LIB) $(PKGS_HQ) 2>/dev/null) -I/usr/include/postgresql
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN = -fsanitize=address,undefined
endif
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
# Each layer sees only the headers it may use, so a wrong include fails the
# build: core its own, formats/ and sync/ core's and their own, sync/hq/
# all of those; the agent only the public header (below); tools and tests
# everything.
INC_core_pub = -Icore/include -Icore
INC_core = $(INC_core_pub) -Icore/internal
INC_formats = $(INC_core_pub) -Iformats
INC_sync = $(INC_core_pub) -Isync
INC_hq   = $(INC_sync) -Iformats -Isync/hq
# The programs (fieldsyncd's own files, the tools, the tests) also see the
# command-line kit in cli/, which sees nothing else.
INC_prog = $(INC_hq) -Icli -Icore/internal
inc = $(if $(filter cli/%,$(1)),-Icli,$(if $(filter core/%,$(1)),$(INC_core),$(if $(filter formats/%,$(1)),$(INC_formats),$(if $(filter $(DAEMON_SRC),$(1)),$(INC_prog),$(if $(filter sync/hq/%,$(1)),$(INC_hq),$(if $(filter sync/%,$(1)),$(INC_sync),$(INC_prog)))))))
# V=1 shows full command lines
ifeq ($(V),1)
Q =
else
Q = @
endif
LIBS_LIB = $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null || echo -lsqlite3 -lcurl -lcjson -lz -lsodium -lgps) -lm -lpthread
LIBS_HQ  = -lmicrohttpd -lpq -lcsv
LIBS_AGENT = -lcsv

CORE_SRC  = $(wildcard core/*.c)
FORMATS_SRC = $(wildcard formats/*.c)
SYNC_SRC  = $(wildcard sync/*.c)
# fieldsyncd's own files: its commands, not the HQ library
DAEMON_SRC = sync/hq/main.c sync/hq/daemon.c sync/hq/serve.c
HQ_SRC    = $(filter-out $(DAEMON_SRC),$(wildcard sync/hq/*.c))
# the command-line kit every program links (not part of the library)
KIT_SRC   = $(wildcard cli/*.c)
AGENT_SRC = $(wildcard agent/*.c)
TOOL_SRC  = $(wildcard tools/*.c)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
TESTLIB_SRC = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJ   = $(call obj,$(CORE_SRC) $(FORMATS_SRC) $(SYNC_SRC))
HQ_OBJ    = $(call obj,$(HQ_SRC)) $(WEB_OBJ)
# the dashboard's files (sync/hq/web/) are compiled into fieldsyncd as C arrays
WEB_FILES = $(sort $(wildcard sync/hq/web/*.html sync/hq/web/*.css sync/hq/web/*.js sync/hq/web/*.svg))
WEB_OBJ   = $(BUILD)/gen/web_assets.o
AGENT_OBJ = $(call obj,$(AGENT_SRC))
KIT_OBJ   = $(call obj,$(KIT_SRC))

LIBA   = $(BUILD)/libfieldsync.a
LIBSO  = $(BUILD)/libfieldsync.so
HQA    = $(BUILD)/libfieldsync_hq.a
AGENT  = $(BUILD)/fieldsync
DAEMON = $(if $(wildcard sync/hq/main.c),$(BUILD)/fieldsyncd)
TOOLS  = $(patsubst tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
UNITS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
EXAMPLES = $(patsubst docs/examples/%.c,$(BUILD)/examples/%,$(wildcard docs/examples/*.c))

.SECONDARY:
.PHONY: all check demo bench bench-route clean deps unit e2e soak fuzz check-pg check-upgrade old-release drawing
all: $(LIBA) $(LIBSO) $(AGENT) $(DAEMON) $(TOOLS) $(UNITS) $(EXAMPLES)

$(BUILD)/obj/%.o: %.c $(wildcard cli/*.h core/*.h core/internal/*.h core/include/*.h formats/*.h sync/*.h sync/hq/*.h agent/*.h tests/unit/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(call inc,$<) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Every symbol resolved at link time (the plain build): libcsv is the library's too.
$(LIBSO): $(LIB_OBJ)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) $(if $(SAN),,-Wl,--no-undefined) $(LDSAN) -o $@ $^ $(LIBS_LIB) -lcsv

$(HQA): $(HQ_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The dashboard's assets: a tiny generator (host build, no sanitizer) writes
# them as arrays into a C file under $(BUILD)/gen (see sync/hq/web.h).
$(BUILD)/gen/embed: sync/hq/web/embed.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O2 -o $@ $<

$(BUILD)/gen/web_assets.c: $(BUILD)/gen/embed $(WEB_FILES)
	@$(if $(Q),echo "  EMBED   sync/hq/web/")
	$(Q)$(BUILD)/gen/embed $(WEB_FILES) >$@.tmp && mv $@.tmp $@

$(WEB_OBJ): $(BUILD)/gen/web_assets.c sync/hq/web.h
	$(Q)$(CC) $(ALL_CFLAGS) $(call inc,$<) -c $< -o $@

# The agent sees only the public header: it is compiled without -Icore etc.
$(BUILD)/obj/agent/%.o: agent/%.c core/include/fieldsync.h $(wildcard agent/*.h cli/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(filter -fsanitize% -fno-%,$(CFLAGS_BASE)) -Icore/include -Icli -Iagent $(CFLAGS) -c $< -o $@

# The embedding example (docs/examples/), built like an app: the public
# header only, linked with the static library.
$(BUILD)/examples/%: docs/examples/%.c core/include/fieldsync.h $(LIBA) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(filter -fsanitize% -fno-%,$(CFLAGS_BASE)) -Icore/include $(CFLAGS) \
		$(LDSAN) -o $@ $< $(LIBA) $(LIBS_LIB) -lcsv

$(AGENT): $(AGENT_OBJ) $(KIT_OBJ) $(LIBA)
	$(Q)$(CC) $(LDSAN) -o $@ $(AGENT_OBJ) $(KIT_OBJ) $(LIBA) $(LIBS_LIB) $(LIBS_AGENT)

$(DAEMON): $(call obj,$(DAEMON_SRC)) $(KIT_OBJ) $(HQA) $(LIBA)
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LIBS_HQ) $(LIBS_LIB)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(KIT_OBJ) $(HQA) $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDSAN) -o $@ $< $(KIT_OBJ) $(HQA) $(LIBA) $(LIBS_HQ) $(LIBS_LIB)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(TESTLIB_SRC)) $(KIT_OBJ) $(HQA) $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDSAN) -o $@ $^ -lcmocka $(LIBS_HQ) $(LIBS_LIB)

deps:
	@tools/deps.sh

# ---- fuzzing (clang libFuzzer) ----
# One binary per tests/fuzz/fuzz_*.c, linked with the engine (core + sync)
# compiled for coverage under ASan/UBSan. Seeds in tests/fuzz/corpus/NAME;
# what a run finds goes to build/fuzz/corpus/NAME.
#   make fuzzers                       build them
#   make fuzz [FUZZ_SECONDS=600]       a long run of each
# make check runs a short one of each (tests/t/t0180-fuzz.sh).
FUZZ_DIR   = build/fuzz
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS    = $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_CC    = clang
FUZZ_FLAGS = $(CSTD) -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-Icore/include -Icore -Icore/internal -Iformats -Isync $(shell pkg-config --cflags $(PKGS_LIB) 2>/dev/null)
FUZZ_OBJ   = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRC) $(FORMATS_SRC) $(SYNC_SRC))
FUZZ_SECONDS ?= 600

$(FUZZ_DIR)/obj/%.o: %.c $(wildcard core/*.h core/internal/*.h core/include/*.h formats/*.h sync/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS_LIB) -lcsv

.PHONY: fuzzers
fuzzers: $(FUZZERS)

fuzz: deps fuzzers
	@for f in $(FUZZERS); do n=$${f##*/fuzz_}; mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		echo "== $$f for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# ---- upgrades: the last release against this tree ----
# Devices and HQ servers of the last release keep running beside this code
# for weeks, so every change is checked against the real release
# (docs/upgrading.md). tools/build-release.sh builds its fieldsync and
# fieldsyncd from the tag in this clone (git archive into RELEASE_DIR, the
# release's own Makefile, plain -O2), once: they are kept until the tag
# names another commit. tests/upgrade/ has the scenarios; the scripts get
# the release's binaries as FS_OLD and FSD_OLD beside FS and FSD.
#   make old-release     build the release only
#   make check-upgrade   the scenarios, against the plain tree
# Both take UPGRADE_FROM=TAG. make check runs the scenarios too, against
# the sanitizer tree, and counts them in its summary line. Raise
# UPGRADE_FROM to the new tag with each release.
UPGRADE_FROM ?= v0.1.0
RELEASE_DIR   = build/release/$(UPGRADE_FROM)
RELEASE_ENV   = FIELDSYNC_OLD_TAG=$(UPGRADE_FROM) FIELDSYNC_OLD_BUILD=$(abspath $(RELEASE_DIR))/build

old-release:
	@tools/build-release.sh $(UPGRADE_FROM) $(RELEASE_DIR)

check-upgrade: deps
	@$(MAKE) --no-print-directory all old-release
	@$(RELEASE_ENV) tests/run $(BUILD) upgrade

# Tests run against the sanitizer tree; the plain tree is built last so that
# the installed/used binaries are the optimised ones.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all
	@$(MAKE) --no-print-directory fuzzers old-release
	@$(RELEASE_ENV) tests/run build/asan
	@$(MAKE) --no-print-directory all

unit: all
	@tests/run $(BUILD) unit

e2e: all fuzzers
	@tests/run $(BUILD) e2e

# HQ over PostgreSQL, longer than in check: the sync suite with three
# servers, 60 convergence seeds over three servers, slower slow writers.
check-pg: deps
	@$(MAKE) --no-print-directory all
	@FIELDSYNC_PG_SEEDS=$${FIELDSYNC_PG_SEEDS:-60} FIELDSYNC_PG_HOLD_MS=$${FIELDSYNC_PG_HOLD_MS:-500} \
		tests/run $(BUILD) pg

# The long versions of the randomised tests (minutes, not part of check).
soak: deps all fuzzers old-release
	@$(RELEASE_ENV) FIELDSYNC_CONVERGE_SEEDS=2000 FIELDSYNC_CRASH_TRIALS=300 FIELDSYNC_MERGE_CASES=50000 \
		FIELDSYNC_ISOLATION_REQUESTS=100000 FIELDSYNC_NETFAULT_ROUNDS=60 FIELDSYNC_SKEW_ROUNDS=30 \
		FIELDSYNC_FUZZ_SECONDS=120 \
		tests/run $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench.sh $(BUILD)

bench-route: deps
	@$(MAKE) --no-print-directory all
	@tools/bench-route.sh $(BUILD)

# Screenshots of the dashboard from the end-to-end test against a real
# fieldsyncd and headless Chromium; docs/dashboard.png is the README's.
# docs/architecture.svg: the calls between source files of this build, by
# floor (tools/layers.sh). Needs Graphviz (apt-get install graphviz), which
# nothing else needs.
drawing: all
	@command -v dot >/dev/null || { echo "drawing: Graphviz is missing (apt-get install graphviz)" >&2; exit 2; }
	@tools/layers.sh $(BUILD) --dot | dot -Tsvg >docs/architecture.svg.tmp && mv docs/architecture.svg.tmp docs/architecture.svg
	@echo "docs/architecture.svg redrawn"

.PHONY: screenshots
screenshots: deps
	@$(MAKE) --no-print-directory all
	@rm -rf $(BUILD)/screenshots
	@FIELDSYNC_BUILD=$(abspath $(BUILD)) FIELDSYNC_SCREENSHOTS=$(abspath $(BUILD)/screenshots) \
		sh tests/t/t0300-dashboard.sh
	@cp $(BUILD)/screenshots/overview.png docs/dashboard.png
	@echo "screenshots in $(BUILD)/screenshots; docs/dashboard.png updated"

# ---- installation ----
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]; make uninstall (same variables)
# Binaries, libfieldsync.a and libfieldsync.so.$(VERSION) (soname $(SONAME),
# dev link libfieldsync.so), fieldsync.h, fieldsync.pc, the man pages, the
# systemd unit and sysusers file, an example configuration, the embedding
# example. The dashboard's assets are compiled into fieldsyncd.
VERSION := $(shell sed -n 's/^\#define FIELDSYNC_VERSION "\(.*\)"/\1/p' core/include/fieldsync.h)
SOMAJOR  = $(firstword $(subst ., ,$(VERSION)))
SONAME   = libfieldsync.so.$(SOMAJOR)
SOFILE   = libfieldsync.so.$(VERSION)
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/fieldsync
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL ?= install
# paths under $(PREFIX) are written relative to ${prefix} in fieldsync.pc
pcrel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

.PHONY: install uninstall
install: $(LIBA) $(LIBSO) $(AGENT) $(DAEMON)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(INSTALL) -m 755 $(AGENT) $(DAEMON) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)/libfieldsync.a
	$(INSTALL) -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/$(SOFILE)
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libfieldsync.so
	$(INSTALL) -m 644 core/include/fieldsync.h $(DESTDIR)$(INCLUDEDIR)/fieldsync.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pcrel,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call pcrel,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
		tools/fieldsync.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/fieldsync.pc
	$(INSTALL) -m 644 docs/man/fieldsync.1 $(DESTDIR)$(MANDIR)/man1/fieldsync.1
	$(INSTALL) -m 644 docs/man/fieldsyncd.8 $(DESTDIR)$(MANDIR)/man8/fieldsyncd.8
	sed -e 's|@BINDIR@|$(BINDIR)|g' tools/systemd/fieldsyncd.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/fieldsyncd.service
	$(INSTALL) -m 644 tools/systemd/fieldsync.sysusers $(DESTDIR)$(SYSUSERSDIR)/fieldsync.conf
	$(INSTALL) -m 644 docs/operations.md README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 tools/systemd/fieldsyncd.conf docs/examples/embed.c $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fieldsync $(DESTDIR)$(BINDIR)/fieldsyncd \
		$(DESTDIR)$(LIBDIR)/libfieldsync.a $(DESTDIR)$(LIBDIR)/$(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libfieldsync.so $(DESTDIR)$(INCLUDEDIR)/fieldsync.h \
		$(DESTDIR)$(PKGCONFIGDIR)/fieldsync.pc $(DESTDIR)$(MANDIR)/man1/fieldsync.1 \
		$(DESTDIR)$(MANDIR)/man8/fieldsyncd.8 $(DESTDIR)$(SYSTEMDUNITDIR)/fieldsyncd.service \
		$(DESTDIR)$(SYSUSERSDIR)/fieldsync.conf $(DESTDIR)$(DOCDIR)/operations.md $(DESTDIR)$(DOCDIR)/README.md \
		$(DESTDIR)$(DOCDIR)/examples/fieldsyncd.conf $(DESTDIR)$(DOCDIR)/examples/embed.c
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build bench/results.json
