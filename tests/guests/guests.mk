# Test guests for the system tests (tests/guests/README.md). Included by the
# top-level Makefile after BUILD, WARN, CC, NASM and LD are defined.
#   build/guests/hello.elf      multiboot2, ELF64, 32-bit protected mode
#   build/guests/hello-mb1.elf  multiboot1, ELF32, 32-bit protected mode
#   build/guests/hostile.elf    multiboot2, ELF64, switches to long mode
#   build/guests/smp.elf        multiboot2, ELF64, 32-bit: wakes every other CPU
#   build/guests/smp-sipi.elf   the same, a SIPI alone first (starts vigil's vCPUs)
#   build/guests/smp-ownidt.elf the same, its CPUs then run on an IDT of their own

GUESTS_SRC  := tests/guests
GUESTS_OUT  := $(BUILD)/guests
GUESTS_ELFS := $(GUESTS_OUT)/hello.elf $(GUESTS_OUT)/hello-mb1.elf $(GUESTS_OUT)/hostile.elf $(GUESTS_OUT)/smp.elf \
               $(GUESTS_OUT)/smp-sipi.elf $(GUESTS_OUT)/smp-ownidt.elf

GUESTS_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
                  -T $(GUESTS_SRC)/guest.ld
GUESTS_NASM    := $(NASM) -g -w+all -Werror -i $(GUESTS_SRC)/
GUESTS_CFLAGS  := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-builtin -fno-stack-protector \
                  -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
                  -fno-asynchronous-unwind-tables -fcf-protection=none \
                  -fno-tree-loop-distribute-patterns

all: $(GUESTS_ELFS)
SYSTEM_TEST_DEPS += $(GUESTS_ELFS)

.PHONY: guests
guests: $(GUESTS_ELFS)

# nasm 2.16's -MD leaves %include files out of the dependencies: they are
# listed here instead.
$(GUESTS_OUT)/hello.o: $(GUESTS_SRC)/hello.asm $(GUESTS_SRC)/common32.inc
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -f elf64 $< -o $@

$(GUESTS_OUT)/smp.o: $(GUESTS_SRC)/smp.asm $(GUESTS_SRC)/common32.inc
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -f elf64 $< -o $@

$(GUESTS_OUT)/smp-sipi.o: $(GUESTS_SRC)/smp.asm $(GUESTS_SRC)/common32.inc
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -DSIPI_FIRST -f elf64 $< -o $@

$(GUESTS_OUT)/smp-ownidt.o: $(GUESTS_SRC)/smp.asm $(GUESTS_SRC)/common32.inc
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -DSIPI_FIRST -DPRIVATE_IDT -f elf64 $< -o $@

$(GUESTS_OUT)/smp.elf $(GUESTS_OUT)/smp-sipi.elf $(GUESTS_OUT)/smp-ownidt.elf: $(GUESTS_OUT)/%.elf: $(GUESTS_OUT)/%.o $(GUESTS_SRC)/guest.ld
	$(LD) -m elf_x86_64 $(GUESTS_LDFLAGS) $< -o $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }

$(GUESTS_OUT)/hello-mb1.o: $(GUESTS_SRC)/hello-mb1.asm $(GUESTS_SRC)/common32.inc
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -f elf32 $< -o $@

$(GUESTS_OUT)/hostile_entry.o: $(GUESTS_SRC)/hostile_entry.asm
	@mkdir -p $(dir $@)
	$(GUESTS_NASM) -f elf64 $< -o $@

$(GUESTS_OUT)/hostile.o: $(GUESTS_SRC)/hostile.c
	@mkdir -p $(dir $@)
	$(CC) $(GUESTS_CFLAGS) -MMD -MP -c $< -o $@

$(GUESTS_OUT)/hello.elf: $(GUESTS_OUT)/hello.o $(GUESTS_SRC)/guest.ld
	$(LD) -m elf_x86_64 $(GUESTS_LDFLAGS) $(GUESTS_OUT)/hello.o -o $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }

$(GUESTS_OUT)/hello-mb1.elf: $(GUESTS_OUT)/hello-mb1.o $(GUESTS_SRC)/guest.ld
	$(LD) -m elf_i386 $(GUESTS_LDFLAGS) $(GUESTS_OUT)/hello-mb1.o -o $@
	@grub-file --is-x86-multiboot $@ || { echo "error: $@ is not a multiboot kernel"; rm -f $@; exit 1; }

$(GUESTS_OUT)/hostile.elf: $(GUESTS_OUT)/hostile_entry.o $(GUESTS_OUT)/hostile.o $(GUESTS_SRC)/guest.ld
	$(LD) -m elf_x86_64 $(GUESTS_LDFLAGS) $(GUESTS_OUT)/hostile_entry.o $(GUESTS_OUT)/hostile.o -o $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }

-include $(GUESTS_OUT)/hostile.d
