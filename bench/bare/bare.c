/*
 * bare.c: runs a static x86-64 ELF on bare Unicorn: the baseline against which bench/run.sh measures goemu's
 * own overhead. It does only what any loader on Unicorn must: PT_LOAD segments mapped with their permissions
 * (as goemu maps them), a stack holding argc and argv, one hook on the syscall instruction (write to stdout,
 * exit_group), one uc_emu_start. Usage: bare ELF [ARGS...]; exits with the guest's exit_group status.
 * The few Unicorn declarations are written out (values from unicorn.h and x86.h, stable across 2.x), so that
 * building it needs only the library goemu uses: gcc bare.c $GOEMU_UNICORN_LIB.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void uc_engine;
typedef size_t uc_hook;
int uc_open(int arch, int mode, uc_engine **uc);
int uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms);
int uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms);
int uc_mem_read(uc_engine *uc, uint64_t address, void *bytes, uint64_t size);
int uc_mem_write(uc_engine *uc, uint64_t address, const void *bytes, uint64_t size);
int uc_reg_read(uc_engine *uc, int regid, void *value);
int uc_reg_write(uc_engine *uc, int regid, const void *value);
int uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin,
                uint64_t end, ...);
int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count);
int uc_emu_stop(uc_engine *uc);
const char *uc_strerror(int err);
enum { UC_ARCH_X86 = 4, UC_MODE_64 = 8, UC_HOOK_INSN = 2, UC_X86_INS_SYSCALL = 699 };
enum { UC_PROT_READ = 1, UC_PROT_WRITE = 2, UC_PROT_EXEC = 4, UC_PROT_ALL = 7 };
enum { UC_X86_REG_RAX = 35, UC_X86_REG_RDI = 39, UC_X86_REG_RDX = 40, UC_X86_REG_RSI = 43, UC_X86_REG_RSP = 44 };

#define PAGE 4096UL
#define STACK_TOP 0x7ffff0000000UL
#define STACK_SIZE (1UL << 20)

static void check(int err, const char *what) {
    if (err) {
        fprintf(stderr, "bare: %s: %s\n", what, uc_strerror(err));
        exit(125);
    }
}

static int status = -1; /* the guest's exit_group status, once it has called it */

static void on_syscall(uc_engine *uc, void *user_data) {
    uint64_t nr, rdi, rsi, rdx, ret = (uint64_t)-38; /* -ENOSYS */
    (void)user_data;
    uc_reg_read(uc, UC_X86_REG_RAX, &nr);
    uc_reg_read(uc, UC_X86_REG_RDI, &rdi);
    uc_reg_read(uc, UC_X86_REG_RSI, &rsi);
    uc_reg_read(uc, UC_X86_REG_RDX, &rdx);
    if (nr == 1 && rdi == 1 && rdx <= 4096) { /* write(1, buf, len) */
        char bytes[4096];
        check(uc_mem_read(uc, rsi, bytes, rdx), "write: reading the guest buffer");
        ret = fwrite(bytes, 1, rdx, stdout);
    } else if (nr == 231 || nr == 60) { /* exit_group, exit */
        status = (int)(rdi & 0xff);
        uc_emu_stop(uc);
    } else {
        fprintf(stderr, "bare: unsupported syscall %lu\n", (unsigned long)nr);
        uc_emu_stop(uc);
    }
    uc_reg_write(uc, UC_X86_REG_RAX, &ret);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bare ELF [ARGS...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    unsigned char *image = size > 0 ? malloc(size) : NULL;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
    if (!image || fseek(f, 0, SEEK_SET) || fread(image, 1, size, f) != (size_t)size || (size_t)size < sizeof *eh
        || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_machine != EM_X86_64) {
        fprintf(stderr, "bare: %s: not a readable x86-64 ELF file\n", argv[1]);
        return 126;
    }
    uc_engine *uc;
    check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");

    /*
     * One mapping over all PT_LOAD segments, each segment's file bytes, then each segment's permissions (a page
     * two segments share gets the later one's). They matter: Unicorn 2.1 tracks every store to an executable
     * page for self-modifying code, so data mapped executable makes the loop ~30% slower.
     */
    Elf64_Phdr *ph = (Elf64_Phdr *)(image + eh->e_phoff);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            if (ph[i].p_vaddr < lo) lo = ph[i].p_vaddr;
            if (ph[i].p_vaddr + ph[i].p_memsz > hi) hi = ph[i].p_vaddr + ph[i].p_memsz;
        }
    lo &= ~(PAGE - 1);
    check(uc_mem_map(uc, lo, (hi - lo + PAGE - 1) & ~(PAGE - 1), UC_PROT_ALL), "mapping the segments");
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_filesz)
            check(uc_mem_write(uc, ph[i].p_vaddr, image + ph[i].p_offset, ph[i].p_filesz), "loading a segment");
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            uint64_t begin = ph[i].p_vaddr & ~(PAGE - 1);
            uint64_t end = (ph[i].p_vaddr + ph[i].p_memsz + PAGE - 1) & ~(PAGE - 1);
            uint32_t perms = (ph[i].p_flags & PF_R ? UC_PROT_READ : 0) | (ph[i].p_flags & PF_W ? UC_PROT_WRITE : 0)
                             | (ph[i].p_flags & PF_X ? UC_PROT_EXEC : 0);
            check(uc_mem_protect(uc, begin, end - begin, perms), "setting a segment's permissions");
        }

    /* Stack: the argument strings at the top; below them argc, argv[], NULL, an empty envp, AT_NULL. */
    check(uc_mem_map(uc, STACK_TOP - STACK_SIZE, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE), "mapping the stack");
    int gargc = argc - 1, w = 0;
    uint64_t strings = STACK_TOP, *words = calloc(gargc + 5, sizeof *words);
    words[w++] = (uint64_t)gargc;
    for (int i = 0; i < gargc; i++) {
        size_t n = strlen(argv[1 + i]) + 1;
        strings -= n;
        check(uc_mem_write(uc, strings, argv[1 + i], n), "writing argv");
        words[w++] = strings;
    }
    w += 4; /* argv's NULL, envp's NULL, auxv's AT_NULL pair: calloc's zeros */
    uint64_t sp = (strings - w * sizeof *words) & ~15UL;
    check(uc_mem_write(uc, sp, words, w * sizeof *words), "writing the stack");
    check(uc_reg_write(uc, UC_X86_REG_RSP, &sp), "setting RSP");

    uc_hook hook;
    check(uc_hook_add(uc, &hook, UC_HOOK_INSN, (void *)on_syscall, NULL, 1, 0, UC_X86_INS_SYSCALL), "hooking syscall");
    check(uc_emu_start(uc, eh->e_entry, 0, 0, 0), "uc_emu_start");
    if (status < 0) {
        fprintf(stderr, "bare: the guest stopped without calling exit_group\n");
        return 125;
    }
    return status;
}
