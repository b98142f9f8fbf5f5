# testos, the test guest OS (docs/testos.md). Included by the top-level
# Makefile after BUILD, WARN, CC, LD, NASM and PYTHON are defined.
#   build/testos.elf       multiboot2 ELF64 kernel, user programs linked in
#   build/testos.profile   symbols and struct layouts for the IDS
# Intermediate files go to build/guest/.

GUEST_ELF   := $(BUILD)/testos.elf
TOS_PROFILE := $(BUILD)/testos.profile
TOS_OUT     := $(BUILD)/guest

# Same discipline as the hypervisor: freestanding, no SSE/x87 (the kernel
# saves no FPU state on context switches, so user code uses none either),
# no red zone in the kernel (interrupts use the same stack).
TOS_CFLAGS_COMMON := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
                     -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 \
                     -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
                     -fno-strict-aliasing -fno-tree-loop-distribute-patterns
GUEST_CFLAGS  := $(TOS_CFLAGS_COMMON) -mcmodel=kernel -Iguest/kernel
GUEST_UCFLAGS := $(TOS_CFLAGS_COMMON) -mcmodel=small -Iguest/user
TOS_LDFLAGS   := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack
TOS_NASM      := $(NASM) -f elf64 -g -w+all -Werror

# Scenario files (scn_*.c) link after the kernel proper, so that adding
# scenarios does not move the kernel's own code (tests name its addresses).
TOS_KCSRC  := $(filter-out guest/kernel/scn_%.c,$(wildcard guest/kernel/*.c)) $(wildcard guest/kernel/scn_*.c)
TOS_KASRC  := $(filter-out guest/kernel/images.asm,$(wildcard guest/kernel/*.asm))
TOS_KOBJS  := $(TOS_KCSRC:guest/%.c=$(TOS_OUT)/%.o) $(TOS_KASRC:guest/%.asm=$(TOS_OUT)/%.asm.o) \
              $(TOS_OUT)/kernel/images.asm.o

TOS_PROGS  := init worker sleeper pager nop probe peek backdoor bench rawio sigproc ghost
TOS_UELFS  := $(TOS_PROGS:%=$(TOS_OUT)/user/%.elf)
TOS_ULIB   := $(TOS_OUT)/user/crt0.asm.o $(TOS_OUT)/user/ulib.o
# The signature pattern of the sigproc program (docs/testos.md); it must never
# appear in the kernel image, only XOR-encoded.
TOS_SIG_XOR_KEY := 0xa5

.PHONY: testos
testos: $(GUEST_ELF) $(TOS_PROFILE)
all: $(GUEST_ELF) $(TOS_PROFILE)
SYSTEM_TEST_DEPS += $(GUEST_ELF) $(TOS_PROFILE)

$(TOS_OUT)/kernel/%.o: guest/kernel/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(TOS_OUT)/kernel/%.asm.o: guest/kernel/%.asm
	@mkdir -p $(dir $@)
	$(TOS_NASM) -MD $(@:.o=.d) $< -o $@

$(TOS_OUT)/kernel/images.asm.o: guest/kernel/images.asm $(TOS_UELFS) $(TOS_OUT)/user/sigproc.elf.xor
	@mkdir -p $(dir $@)
	$(TOS_NASM) -i $(TOS_OUT)/user/ $< -o $@

$(TOS_OUT)/user/%.o: guest/user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_UCFLAGS) -MMD -MP -c $< -o $@

$(TOS_OUT)/user/%.asm.o: guest/user/%.asm
	@mkdir -p $(dir $@)
	$(TOS_NASM) $< -o $@

$(TOS_OUT)/user/%.elf: $(TOS_OUT)/user/%.o $(TOS_ULIB) guest/user/user.ld
	$(LD) $(TOS_LDFLAGS) -S -T guest/user/user.ld $(TOS_ULIB) $< -o $@

$(TOS_OUT)/user/sigproc.elf.xor: $(TOS_OUT)/user/sigproc.elf
	$(PYTHON) -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(bytes(b ^ $(TOS_SIG_XOR_KEY) for b in d))' $< $@

$(GUEST_ELF): $(TOS_KOBJS) guest/kernel/kernel.ld
	$(LD) $(TOS_LDFLAGS) -T guest/kernel/kernel.ld $(TOS_KOBJS) -o $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }
	@if grep -qF 'VIGIL-SIGNATURE!' $@; then echo "error: the signature pattern leaked into $@"; rm -f $@; exit 1; fi
	@$(PYTHON) -c 'import sys; e = int(sys.argv[1], 16); sys.exit(e > 0x1800000 and "error: testos image ends at %#x, above 24 MiB" % e)' \
	    $$(nm $@ | awk '$$3 == "__kernel_phys_end" { print $$1 }') || { rm -f $@; exit 1; }

# The profile: symbols from the ELF (nm), layouts from the kernel's own
# headers compiled into the host tool (same compiler, same x86-64 ABI).
$(TOS_OUT)/mkprofile: guest/tools/mkprofile.c guest/tools/profile.c guest/tools/profile.h \
                      guest/kernel/proc.h guest/kernel/syscall.h guest/kernel/kernel.h guest/kernel/trap.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g $(WARN) -Iguest/kernel -Iguest/tools guest/tools/mkprofile.c guest/tools/profile.c -o $@

$(TOS_PROFILE): $(GUEST_ELF) $(TOS_OUT)/mkprofile
	nm -S --defined-only $(GUEST_ELF) > $(TOS_OUT)/testos.nm
	$(TOS_OUT)/mkprofile $(TOS_OUT)/testos.nm $@

-include $(TOS_KOBJS:.o=.d) $(TOS_UELFS:.elf=.d)
.SECONDARY: $(TOS_PROGS:%=$(TOS_OUT)/user/%.o)

# tests/unit/test_profile_writer.c includes the profile writer's source.
$(BUILD)/tests/unit/test_profile_writer: guest/tools/profile.c guest/tools/profile.h
