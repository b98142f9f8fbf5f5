# Host-side tests: unit tests (cmocka), fuzz targets (libFuzzer, clang).
# Pure modules are compiled for the host with -DVIGIL_HOST into one library.

HOST_CC      := gcc
HOST_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -DVIGIL_HOST -I. -fsanitize=address,undefined -fno-omit-frame-pointer
PURE_SRCS    := lib/fmt.c lib/string.c lib/cmdline.c lib/log.c lib/clock.c arch/x86_64/multiboot2.c \
                vmm/memmap.c vmm/palloc.c vmm/vmxcap.c vmm/loader.c vmm/linuxboot.c vmm/guestinfo.c vmm/ept.c \
                vmm/mtrr.c vmm/madt.c vmm/smbios.c vmm/vmcs_check.c vmm/traps.c vmm/pcidma.c vmm/vtd.c lib/ptaccess.c lib/ptwalk.c lib/search.c lib/insn.c lib/rand.c ids/policy.c ids/profile.c ids/elfsyms.c ids/alert.c ids/xref.c ids/patchsite.c ids/modarea.c ids/xgrant.c ids/progdb.c $(PURE_SRCS_EXTRA)
PURE_OBJS    := $(PURE_SRCS:%.c=$(BUILD)/host/%.o)
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_BINS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
FUZZ_SECONDS ?= 30

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/host/libpure.a: $(PURE_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/host/libpure.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  UNIT    $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $< $(BUILD)/host/libpure.a -lcmocka -lm -o $@

# libFuzzer targets: the pure sources are rebuilt with clang's coverage.
$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(PURE_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang -std=gnu11 -O1 -g $(WARN) -DVIGIL_HOST -I. -fsanitize=fuzzer,address,undefined $< $(PURE_SRCS) -o $@

.PHONY: unit-build fuzz-build test-build fuzz
unit-build: $(UNIT_BINS)
fuzz-build: $(FUZZ_BINS)
test-build: unit-build fuzz-build $(SYSTEM_TEST_DEPS)

fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz-corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

-include $(PURE_OBJS:.o=.d)

# IDS policy logic on the host: the real ids/*.c (engine, policies, vmi,
# alert log, parsers, console) against a fake vmm/ layer with a synthetic
# guest in its memory (tests/unit/fake_vmm.c). An explicit rule with its own
# recipe, so make does not use the generic one-file rule above for it; the
# binary is in UNIT_BINS through the tests/unit/test_*.c wildcard.
POLICY_TEST_SRCS := $(wildcard ids/*.c) vmm/traps.c lib/fmt.c lib/string.c lib/log.c lib/clock.c lib/ptwalk.c lib/search.c lib/insn.c arch/x86_64/multiboot2.c
POLICY_TEST_OBJS := $(POLICY_TEST_SRCS:%.c=$(BUILD)/host/%.o)

$(BUILD)/tests/unit/test_policies: tests/unit/test_policies.c tests/unit/fake_vmm.c tests/unit/fake_vmm.h \
                                   $(POLICY_TEST_OBJS) $(wildcard ids/*.h vmm/introspect.h vmm/guestmem.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  UNIT    $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) tests/unit/test_policies.c tests/unit/fake_vmm.c $(POLICY_TEST_OBJS) -lcmocka -o $@

-include $(POLICY_TEST_OBJS:.o=.d)
