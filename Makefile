# okx-faultd — plain make + pkg-config. Quiet unless V=1.
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/sbin
UBINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/okx-faultd

VERSION := 0.1.0
# The commit: from git in a checkout (-dirty when tracked files differ from
# HEAD); in a `git archive` tree from .git-commit, which git archive fills in
# (export-subst in .gitattributes).
ifneq ($(wildcard .git),)
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY := $(shell git diff --quiet HEAD -- 2>/dev/null; [ $$? = 1 ] && echo -dirty)
else
GIT_COMMIT := $(shell cut -c1-12 .git-commit 2>/dev/null | grep -x '[0-9a-f]\{12\}' || echo unknown)
GIT_DIRTY :=
endif

PKGS := libnftnl libmnl libnl-3.0 libnl-route-3.0 libcjson
# okx-faultctl alone links libarchive (its bundles, src/bundle.c): the
# daemon gains no dependency (tests/static/bundle.sh checks with ldd)
CTL_PKGS := libarchive
TEST_PKGS := criterion

CFLAGS ?= -O2 -g
# -Werror only when asked: make check, check-unit, check-vm, bench and CI
# ask (WERROR=1); a plain make does not stop on a newer compiler's warning
WERROR ?=
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wundef -Wvla -Wcast-align $(if $(filter 1,$(WERROR)),-Werror)
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude \
	-DOKX_VERSION='"$(VERSION)"' -DOKX_GIT_COMMIT='"$(GIT_COMMIT)$(GIT_DIRTY)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) $(CTL_PKGS) 2>/dev/null)
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm -pthread
CTL_LIBS := $(shell $(PKG_CONFIG) --libs $(CTL_PKGS) 2>/dev/null)
# a program's libraries: okx-faultctl's add CTL_LIBS
prog_libs = $(LIBS) $(if $(filter %okx-faultctl,$@),$(CTL_LIBS))
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The unsanitized build (programs, labs, benches) is hardened; the sanitizer
# and fuzz builds are not: ASan checks what _FORTIFY_SOURCE would. glibc's
# _FORTIFY_SOURCE needs optimisation, so -O0 leaves it out.
HARDEN_CFLAGS := -fstack-protector-strong -fPIE \
	$(if $(filter -O -O1 -O2 -O3 -Os -Og -Oz -Ofast,$(CFLAGS)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now

MAINS := src/okx-faultd.c src/okx-faultctl.c
LIB_SRC := $(filter-out $(MAINS),$(wildcard src/*.c))
TEST_SRC := $(wildcard tests/unit/test_*.c)
LAB_SRC := $(wildcard tests/lab/*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)

B ?= build
S ?= $(B)/san
# the default build puts the programs at the top of the tree; another
# build directory (make B=build/clang CC=clang) keeps its own, so both coexist
PROG_DIR := $(if $(filter build,$(B)),,$(B)/)
PROGS := $(PROG_DIR)okx-faultd $(PROG_DIR)okx-faultctl
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/%.o)
SLIB_OBJ := $(LIB_SRC:src/%.c=$(S)/%.o)
TESTS := $(TEST_SRC:tests/unit/%.c=$(S)/%)
LABS := $(LAB_SRC:tests/lab/%.c=$(B)/lab/%)
BENCHES := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
FUZZERS := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

all: $(PROGS)

$(PROGS): $(PROG_DIR)%: $(B)/%.o $(B)/libokx.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $^ $(prog_libs)

$(B)/libokx.a: $(LIB_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(S)/libokx.a: $(SLIB_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/%.o: src/%.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(S)/%.o: src/%.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC [san] $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

# sanitized daemon and ctl: the integration tests drive these
$(S)/okx-faultd $(S)/okx-faultctl: $(S)/%: $(S)/%.o $(S)/libokx.a
	@echo "  LD [san] $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(LDFLAGS) -o $@ $^ $(prog_libs)

$(S)/test_%: tests/unit/test_%.c $(S)/libokx.a
	@mkdir -p $(@D)
	@echo "  CC [test] $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -MMD -MP \
		-o $@ $< $(S)/libokx.a $(LIBS) $(CTL_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

# lab programs: one file each, linked with the library for its clock helpers
$(B)/lab/%: tests/lab/%.c $(B)/libokx.a
	@mkdir -p $(@D)
	@echo "  CC [lab] $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -MMD -MP \
		-o $@ $< $(B)/libokx.a $(LIBS)

# benchmark and probe programs link the (unsanitized) library
$(B)/bench/%: tests/bench/%.c $(B)/libokx.a
	@mkdir -p $(@D)
	@echo "  CC [bench] $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -MMD -MP \
		-o $@ $< $(B)/libokx.a $(LIBS)

# libFuzzer targets: clang, the library's sources built in with the fuzzer
# (warnings are gated by the gcc and clang builds of WERROR=1, not here)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(@D)
	@echo "  CC [fuzz] $<"
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) -Wno-error -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $< $(LIB_SRC) $(LIBS) $(CTL_LIBS)

# objects follow the compiler and flags they were built with (-Werror aside:
# it changes no object), as the version stamp follows HEAD
FLAGS_ID := $(CC) | $(CFLAGS) | $(LDFLAGS) | $(HARDEN_CFLAGS) $(HARDEN_LDFLAGS) | $(SAN)
$(B)/.flags: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(FLAGS_ID)' | cmp -s - $@ || echo '$(FLAGS_ID)' > $@

# the version stamp must follow HEAD: in the objects that use it (the
# journal's start event, drill.c; a bundle's manifest, bundle.c)
STAMPED := okx-faultd okx-faultctl drill bundle
$(foreach o,$(STAMPED),$(B)/$(o).o $(S)/$(o).o): .git-stamp
.git-stamp: FORCE
	$(Q)echo '$(GIT_COMMIT)$(GIT_DIRTY)' | cmp -s - $@ || echo '$(GIT_COMMIT)$(GIT_DIRTY)' > $@
FORCE:

build-tests: all $(TESTS) $(S)/okx-faultd $(S)/okx-faultctl $(LABS) $(BENCHES)

deps:
	$(Q)tests/deps.sh install fuzz

check:
	$(Q)tests/deps.sh ensure fuzz
	$(Q)$(MAKE) --no-print-directory WERROR=1 build-tests
	$(Q)tests/run.sh

check-unit:
	$(Q)$(MAKE) --no-print-directory WERROR=1 build-tests
	$(Q)tests/run.sh unit

check-vm:
	$(Q)tests/deps.sh ensure vm
	$(Q)$(MAKE) --no-print-directory WERROR=1 build-tests
	$(Q)tests/vm/run.sh

fuzzers: $(FUZZERS)

fuzz:
	$(Q)tests/deps.sh ensure fuzz
	$(Q)$(MAKE) --no-print-directory $(FUZZERS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZERS)

bench:
	$(Q)tests/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory WERROR=1 build-tests
	$(Q)tests/bench/run.sh

demo:
	$(Q)tests/deps.sh ensure
	$(Q)$(MAKE) --no-print-directory all $(LABS)
	$(Q)tests/lab/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DOCDIR)/policies $(DESTDIR)$(SYSCONFDIR)/okx-faultd
	install -m 0755 $(PROG_DIR)okx-faultd $(DESTDIR)$(BINDIR)/okx-faultd
	install -m 0755 $(PROG_DIR)okx-faultctl $(DESTDIR)$(UBINDIR)/okx-faultctl
	install -m 0644 dist/okx-faultd.8 $(DESTDIR)$(MANDIR)/man8/okx-faultd.8
	install -m 0644 dist/okx-faultd.policy.5 $(DESTDIR)$(MANDIR)/man5/okx-faultd.policy.5
	install -m 0644 dist/okx-faultctl.1 $(DESTDIR)$(MANDIR)/man1/okx-faultctl.1
	sed 's|@BINDIR@|$(BINDIR)|g' dist/okx-faultd@.service.in > $(DESTDIR)$(UNITDIR)/okx-faultd@.service
	install -m 0644 policies/*.policy $(DESTDIR)$(DOCDIR)/policies/

clean:
	rm -rf $(B) $(PROGS) .git-stamp demo-out

.PHONY: all deps check check-unit check-vm bench fuzz fuzzers demo install clean build-tests FORCE
-include $(wildcard $(B)/*.d $(S)/*.d $(B)/lab/*.d $(B)/bench/*.d)
