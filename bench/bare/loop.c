/*
 * loop.c: the guest of the overhead measurement in bench/run.sh. A static x86-64 program without libc
 * (gcc -static -nostdlib) so that bare Unicorn (bare.c) can run it with nothing but its PT_LOAD segments, a
 * stack, write and exit_group. It runs argv[1] (default 20000000) steps of a xorshift generator that reads and
 * writes a 256 KiB table, ALU work, loads and stores as in compiled Go code, and prints a checksum, which
 * bench/run.sh compares between the two runs.
 */
#include <stdint.h>

#define TABLE_WORDS (1 << 16)
static uint32_t table[TABLE_WORDS];

/* The kernel's initial stack holds argc, then argv[]; the entry point hands its address to main_c. */
__asm__(".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call main_c\n"
        "  hlt\n");

static long syscall3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

__attribute__((noreturn, used)) void main_c(uint64_t *sp) {
    const char *arg = sp[0] > 1 ? (const char *)sp[2] : "20000000";
    uint64_t n = 0;
    for (const char *c = arg; *c >= '0' && *c <= '9'; c++) n = n * 10 + (uint64_t)(*c - '0');

    uint32_t x = 2463534242u, sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        table[x & (TABLE_WORDS - 1)] += x;
        sum += table[(x >> 16) & (TABLE_WORDS - 1)];
    }

    char line[] = "loop checksum 00000000\n";
    for (int i = 0; i < 8; i++) line[21 - i] = "0123456789abcdef"[(sum >> 4 * i) & 15];
    syscall3(1, 1, (long)line, sizeof line - 1); /* write */
    syscall3(231, 0, 0, 0);                      /* exit_group */
    __builtin_unreachable();
}
