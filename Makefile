# vigil: the one entry point. `make help` lists the targets.
#   make            build/vigil.elf and build/testos.elf
#   make iso        build/vigil.iso (GRUB, vigil + test guest)
#   make run        boot the ISO in Bochs, both consoles on the terminal (GUEST=linux: Debian's Linux;
#                   EMU=qemu: QEMU, with KVM where it offers nested VMX)
#   make test       every test: unit, fuzz regression, system (Bochs, QEMU)
#   make check      host unit tests only
#   make bench      benchmarks (emulated cycle counts in Bochs; BENCH=testos|linux|linux-on|linux-smp: one part)
#   make fuzz       run each fuzz target for FUZZ_SECONDS (libFuzzer)
#   make linux      fetch Debian's kernel, build the busybox initramfs (build/linux/)
#   make linux-profile [VMLINUZ=PATH] [PROGRAMS="NAME=ELF ..."]   build/linux.profile from that kernel's BTF and
#                   kallsyms (and program-integrity's hashes of those programs' code pages)
#   make clean

BUILD   := build
CC      := gcc
LD      := ld
NASM    := nasm
PYTHON  := python3

WARN    := -Wall -Wextra -Werror
# Freestanding, no SSE/x87 (vigil never saves guest FPU state on exits),
# no red zone (interrupts and VM exits use the same stack).
HV_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
             -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 -mcmodel=small \
             -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
             -fno-strict-aliasing -I.
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -T linker.ld

HV_CSRC   := $(wildcard arch/x86_64/*.c vmm/*.c ids/*.c lib/*.c)
HV_ASRC   := $(wildcard arch/x86_64/*.asm vmm/*.asm)
HV_OBJS   := $(HV_CSRC:%.c=$(BUILD)/hv/%.o) $(HV_ASRC:%.asm=$(BUILD)/hv/%.asm.o)

VIGIL_ARGS ?=
SCENARIO   ?= benign

.PHONY: all iso run test check bench fuzz clean help deps deps-run deps-test

all: $(BUILD)/vigil.elf

help:
	@sed -n '1,14p' Makefile

deps:
	@scripts/deps.sh build
deps-run:
	@scripts/deps.sh run
deps-test:
	@scripts/deps.sh test

# V=1 shows the commands.
Q := $(if $(V),,@)

$(BUILD)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) -f elf64 -g -w+all -Werror -MD $(@:.o=.d) $< -o $@

$(BUILD)/vigil.elf: $(HV_OBJS) linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(HV_LDFLAGS) $(HV_OBJS) -o $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }

# Debian's stock kernel and a busybox initramfs (scripts/getlinux.sh): fetched
# with apt-get download, cached in build/linux/; `make linux` asks again
# whether linux-image-amd64 has moved to another kernel.
# The initramfs also holds the project's own static test programs: every
# tests/linux/prog/NAME.c becomes /bin/NAME (built static against Debian's
# glibc); adding a program is adding its file.
LINUX_DIR := $(BUILD)/linux
LINUX_PROGS := $(patsubst tests/linux/prog/%.c,$(LINUX_DIR)/prog/%,$(wildcard tests/linux/prog/*.c))
.PHONY: linux
linux: deps-test
	@$(MAKE) --no-print-directory $(LINUX_PROGS)
	@scripts/getlinux.sh $(LINUX_DIR)
$(LINUX_DIR)/vmlinuz: scripts/getlinux.sh
	@scripts/getlinux.sh $(LINUX_DIR) kernel
$(LINUX_DIR)/prog/%: tests/linux/prog/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  STATIC  $@")
	$(Q)$(CC) -static -O2 -s $(WARN) -o $@ $<
# Rebuilding the initramfs never fetches anything (getlinux.sh ... initrd).
$(LINUX_DIR)/initrd.img: $(LINUX_DIR)/vmlinuz tests/linux/init $(LINUX_PROGS) $(wildcard tests/linux/module/*)
	@scripts/getlinux.sh $(LINUX_DIR) initrd
SYSTEM_TEST_DEPS += $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initrd.img

# A profile of exactly that kernel from its own BTF and kallsyms tables, no
# debug package (scripts/linuxprofile.py, docs/profile.md).
VMLINUZ ?= $(LINUX_DIR)/vmlinuz
LINUX_PROFILE := $(BUILD)/linux.profile
.PHONY: linux-profile
PROGRAMS ?=
linux-profile:
	$(PYTHON) scripts/linuxprofile.py $(VMLINUZ) $(LINUX_PROFILE).tmp
	$(if $(PROGRAMS),$(PYTHON) scripts/progpages.py $(PROGRAMS) >> $(LINUX_PROFILE).tmp)
	mv $(LINUX_PROFILE).tmp $(LINUX_PROFILE)
# program-integrity's known-good code pages (scripts/progpages.py) of the
# initramfs's busybox and the test programs, appended to the profile.
LINUX_PROFILE_PROGRAMS := busybox=$(LINUX_DIR)/busybox $(foreach p,$(LINUX_PROGS),$(notdir $(p))=$(p))
$(LINUX_PROFILE): $(LINUX_DIR)/vmlinuz scripts/linuxprofile.py scripts/progpages.py $(LINUX_PROGS)
	$(PYTHON) scripts/linuxprofile.py $< $@.tmp
	$(PYTHON) scripts/progpages.py $(LINUX_PROFILE_PROGRAMS) >> $@.tmp
	mv $@.tmp $@
SYSTEM_TEST_DEPS += $(LINUX_PROFILE)

-include guest/guest.mk
-include tests/guests/guests.mk
-include tests/tests.mk

GUEST_PROFILE := $(TOS_PROFILE)

# The ISO boots vigil with the test guest and its profile (and POLICY, a
# policy file, if given): make iso SCENARIO=hide-process POLICY=my.policy
POLICY ?=
$(BUILD)/vigil.iso: $(BUILD)/vigil.elf $(GUEST_ELF) $(GUEST_PROFILE) $(POLICY) scripts/mkiso.sh FORCE
	@scripts/mkiso.sh $@ --vigil $(BUILD)/vigil.elf "$(VIGIL_ARGS)" \
	    $(if $(GUEST_ELF),--module $(GUEST_ELF) "guest scenario=$(SCENARIO) console=com2") \
	    $(if $(GUEST_PROFILE),--module $(GUEST_PROFILE) "profile") \
	    $(if $(POLICY),--module $(POLICY) "policy")
	@echo "  ISO     $@ (scenario=$(SCENARIO)$(if $(POLICY), policy=$(POLICY)))"

.PHONY: FORCE
FORCE:

iso: deps $(BUILD)/vigil.iso

# make run GUEST=linux: Debian's kernel and the test initramfs under vigil
# (LINUX_ARGS: the rest of Linux's command line). Bochs needs
# ignore_bad_msrs=1 for this kernel even bare (docs/linux.md).
GUEST ?= testos
LINUX_ARGS ?=
$(BUILD)/linux.iso: $(BUILD)/vigil.elf $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initrd.img $(POLICY) scripts/mkiso.sh FORCE
	@scripts/mkiso.sh $@ --vigil $(BUILD)/vigil.elf "$(VIGIL_ARGS)" \
	    --module $(LINUX_DIR)/vmlinuz "guest console=ttyS1,115200 $(LINUX_ARGS)" \
	    --module $(LINUX_DIR)/initrd.img "initrd" \
	    $(if $(POLICY),--module $(POLICY) "policy")
	@echo "  ISO     $@ (Linux $$(cat $(LINUX_DIR)/version))"

ifeq ($(GUEST),linux)
run: deps-run deps-test
	@$(MAKE) --no-print-directory all $(BUILD)/linux.iso
	$(PYTHON) scripts/emu.py bochs --iso $(BUILD)/linux.iso --live --out $(BUILD)/run --timeout 1200 --ignore-bad-msrs
else ifeq ($(EMU),qemu)
# make run EMU=qemu: QEMU with KVM where /dev/kvm offers nested VMX, else
# TCG (emu.py says why), where vigil shows its refusal.
run: deps-run deps-test
	@$(MAKE) --no-print-directory all iso
	$(PYTHON) scripts/emu.py qemu --cpu auto --iso $(BUILD)/vigil.iso --live --out $(BUILD)/run --timeout 600
else
run: deps-run
	@$(MAKE) --no-print-directory all iso
	$(PYTHON) scripts/emu.py bochs --iso $(BUILD)/vigil.iso --live --out $(BUILD)/run --timeout 600
endif

# The build before the tests runs as many jobs as there are CPUs.
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps-test
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) all iso test-build
	$(PYTHON) scripts/testrun.py

# BENCH=testos or BENCH=linux runs one part (default: both); BENCH=linux-on only
# the IDS-on Linux boot, beside the last BENCH=linux run's bare and ids=off ones.
BENCH ?=
bench: deps-run $(if $(filter testos,$(BENCH)),,deps-test)
	@$(MAKE) --no-print-directory all $(if $(filter testos,$(BENCH)),,$(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initrd.img $(LINUX_PROFILE))
	$(PYTHON) scripts/bench.py $(if $(BENCH),--only $(BENCH))

check: deps-test
	@$(MAKE) --no-print-directory unit-build
	$(PYTHON) scripts/testrun.py --only unit

clean:
	rm -rf $(BUILD)

-include $(HV_OBJS:.o=.d)
