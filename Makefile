# fieldsync build.
#   make            library (static + shared), fieldsync, fieldsyncd, tools
#   make check      deps + sanitizer build + every test, then a plain build
#   make demo       deps + build + the narrated end-to-end run
#   make bench      benchmark figures (bench/results.json)
#   make bench-route  route planner against the TSPLIB instances
# Objects go under $(BUILD); BUILD=build/asan SAN=1 gives the sanitizer tree.

BUILD   ?= build
SAN     ?=
CC      ?= cc
PKGS_LIB = sqlite3 libcurl libcjson zlib libsodium
PKGS_HQ  = libmicrohttpd libpq

CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
CFLAGS_BASE = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden \
	-Icore/include -Icore -Isync -Isync/hq \
	$(shell pkg-config --cflags $(PKGS_LIB) $(PKGS_HQ) 2>/dev/null) -I/usr/include/postgresql
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN = -fsanitize=address,undefined
endif
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
# V=1 shows full command lines
ifeq ($(V),1)
Q =
else
Q = @
endif
LIBS_LIB = $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null || echo -lsqlite3 -lcurl -lcjson -lz -lsodium) -lm -lpthread
LIBS_HQ  = -lmicrohttpd -lpq -lcsv
LIBS_AGENT = -lcsv

CORE_SRC  = $(wildcard core/*.c)
SYNC_SRC  = $(wildcard sync/*.c)
HQ_SRC    = $(filter-out sync/hq/main.c,$(wildcard sync/hq/*.c))
AGENT_SRC = $(wildcard agent/*.c)
TOOL_SRC  = $(wildcard tools/*.c)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
TESTLIB_SRC = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJ   = $(call obj,$(CORE_SRC) $(SYNC_SRC))
HQ_OBJ    = $(call obj,$(HQ_SRC))
AGENT_OBJ = $(call obj,$(AGENT_SRC))

LIBA   = $(BUILD)/libfieldsync.a
LIBSO  = $(BUILD)/libfieldsync.so
HQA    = $(BUILD)/libfieldsync_hq.a
AGENT  = $(BUILD)/fieldsync
DAEMON = $(if $(wildcard sync/hq/main.c),$(BUILD)/fieldsyncd)
TOOLS  = $(patsubst tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
UNITS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.SECONDARY:
.PHONY: all check demo bench bench-route clean deps unit e2e soak fuzz check-pg
all: $(LIBA) $(LIBSO) $(AGENT) $(DAEMON) $(TOOLS) $(UNITS)

$(BUILD)/obj/%.o: %.c $(wildcard core/*.h core/include/*.h sync/*.h sync/hq/*.h agent/*.h tests/unit/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(Q)$(CC) -shared -Wl,-soname,libfieldsync.so.0 $(LDSAN) -o $@ $^ $(LIBS_LIB)

$(HQA): $(HQ_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The agent sees only the public header: it is compiled without -Icore etc.
$(BUILD)/obj/agent/%.o: agent/%.c core/include/fieldsync.h $(wildcard agent/*.h) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(filter -fsanitize% -fno-%,$(CFLAGS_BASE)) -Icore/include -Iagent $(CFLAGS) -c $< -o $@

$(AGENT): $(AGENT_OBJ) $(LIBA)
	$(Q)$(CC) $(LDSAN) -o $@ $(AGENT_OBJ) $(LIBA) $(LIBS_LIB) $(LIBS_AGENT)

$(DAEMON): $(call obj,sync/hq/main.c) $(HQA) $(LIBA)
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LIBS_HQ) $(LIBS_LIB)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(HQA) $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDSAN) -o $@ $< $(HQA) $(LIBA) $(LIBS_HQ) $(LIBS_LIB)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(TESTLIB_SRC)) $(HQA) $(LIBA)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDSAN) -o $@ $^ -lcmocka $(LIBS_HQ) $(LIBS_LIB)

deps:
	@tools/deps.sh

# Tests run against the sanitizer tree; the plain tree is built last so that
# the installed/used binaries are the optimised ones.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all
	@tests/run build/asan
	@$(MAKE) --no-print-directory all

unit: all
	@tests/run $(BUILD) unit

e2e: all
	@tests/run $(BUILD) e2e

# The long versions of the randomised tests (minutes, not part of check).
soak: deps all
	@FIELDSYNC_CONVERGE_SEEDS=2000 FIELDSYNC_CRASH_TRIALS=300 FIELDSYNC_MERGE_CASES=50000 \
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

clean:
	rm -rf build bench/results.json
