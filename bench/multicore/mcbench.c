/*
 * mcbench: can several Unicorn engines, one per host thread, run guest threads in parallel over the same guest
 * memory (the same host pages given to every engine with uc_mem_map_ptr)? Each test answers one question of
 * "More than one core (measured, not built)" in docs/ARCHITECTURE.md. Not part of goemu's build or tests: run it
 * with bench/multicore/run.sh.
 *
 * The guest code is the hand-written x86-64 routines in the asm block below. They follow the SysV calling
 * convention and end with `ret`, so the same bytes also run natively, as a reference for what real x86 hardware
 * does. Under emulation they are copied to guest address CODE, called with RSP on a guest stack whose return
 * address is EXIT, and uc_emu_start runs until EXIT.
 *
 * libunicorn is loaded with dlopen (--lib PATH, default $GOEMU_UNICORN_LIB), so one binary compares libraries; the
 * few prototypes and constants are declared here (values from unicorn 2.1.4's include/unicorn/ headers), so building
 * needs no Unicorn headers.
 *
 *   mcbench [--lib PATH] atomic  [-t THREADS] [-n ITERS] [--native]   lost updates of LOCK-prefixed RMWs
 *   mcbench [--lib PATH] litmus  [-n ITERS] [--native]                store buffering / message passing outcomes
 *   mcbench [--lib PATH] scale   [-t THREADS] [-n ITERS] [-k alu|store|xadd|xadd-shared]   time per thread
 *   mcbench [--lib PATH] stop    [-n ITERS] [-p MICROS] [--interrupt] uc_emu_stop (or goemu_engine_interrupt)
 *                                                                     from another thread; checks the guest state
 *   mcbench [--lib PATH] smc                                          code written by one engine, run by another
 *   mcbench [--lib PATH] maps    [-r REGIONS]                         cost of map/protect/unmap per engine
 *   mcbench [--lib PATH] shootdown                                    one engine's map change, and the others
 *   mcbench [--lib PATH] open    [-t THREADS] [-n ENGINES]            engines opened and closed concurrently
 *   mcbench [--lib PATH] unmapped                                     LOCK RMW on unmapped / read-only / misaligned
 *
 * Runs of several threads that do not finish within --limit SECONDS (60) are reported as deadlocked.
 *
 * UC_PARALLEL=1 in the environment only matters with a library patched to read it (see run.sh).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ the Unicorn API used (unicorn 2.1.4) */

typedef struct uc_struct uc_engine;
typedef int uc_err;
typedef size_t uc_hook;
enum { UC_ARCH_X86 = 4, UC_MODE_64 = 8 };
enum { UC_PROT_NONE = 0, UC_PROT_READ = 1, UC_PROT_WRITE = 2, UC_PROT_EXEC = 4, UC_PROT_ALL = 7 };
enum { UC_RAX = 35, UC_RBX = 37, UC_RCX = 38, UC_RDX = 40, UC_RSI = 43, UC_RDI = 39, UC_RBP = 36,
       UC_RSP = 44, UC_RIP = 41, UC_R8 = 106, UC_R9 = 107 };
#define UC_CTL_TB_REMOVE_CACHE_W 1207959561 /* UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2) */
#define UC_CTL_TB_FLUSH_W 1073741834        /* UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0) */

static struct {
    uc_err (*open)(int arch, int mode, uc_engine **uc);
    uc_err (*close)(uc_engine *uc);
    uc_err (*mem_map_ptr)(uc_engine *uc, uint64_t address, size_t size, uint32_t perms, void *ptr);
    uc_err (*mem_unmap)(uc_engine *uc, uint64_t address, size_t size);
    uc_err (*mem_protect)(uc_engine *uc, uint64_t address, size_t size, uint32_t perms);
    uc_err (*reg_write)(uc_engine *uc, int regid, const void *value);
    uc_err (*reg_read)(uc_engine *uc, int regid, void *value);
    uc_err (*emu_start)(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count);
    uc_err (*emu_stop)(uc_engine *uc);
    uc_err (*ctl)(uc_engine *uc, int control, ...);
    const char *(*strerror)(uc_err code);
    unsigned (*version)(unsigned *major, unsigned *minor);
    uc_err (*interrupt)(uc_engine *uc); /* goemu's engine patch only: goemu_engine_interrupt */
} uc;

static void load_unicorn(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "mcbench: dlopen %s: %s\n", path, dlerror()); exit(2); }
#define SYM(f, n) if (!(*(void **)&uc.f = dlsym(h, n))) { fprintf(stderr, "mcbench: no %s in %s\n", n, path); exit(2); }
    SYM(open, "uc_open") SYM(close, "uc_close") SYM(mem_map_ptr, "uc_mem_map_ptr") SYM(mem_unmap, "uc_mem_unmap")
    SYM(mem_protect, "uc_mem_protect") SYM(reg_write, "uc_reg_write") SYM(reg_read, "uc_reg_read")
    SYM(emu_start, "uc_emu_start") SYM(emu_stop, "uc_emu_stop") SYM(ctl, "uc_ctl") SYM(strerror, "uc_strerror")
    SYM(version, "uc_version")
#undef SYM
    *(void **)&uc.interrupt = dlsym(h, "goemu_engine_interrupt");
}

#define CHECK(call) do { uc_err e_ = (call); if (e_) { fprintf(stderr, "mcbench: %s: %s\n", #call, uc.strerror(e_)); exit(1); } } while (0)

/* ------------------------------------------------------------------ guest code */

/* Addresses of the routines inside the block; the block is copied to guest address CODE as is. */
extern const char mc_guest_begin[], mc_guest_end[];
extern const char g_xadd[], g_lockinc[], g_lockadd[], g_cas[], g_xchglock[], g_plaininc[];
extern const char g_alu[], g_store[], g_litmus[], g_stopcheck[], g_ret_const[], g_ret_const_imm[], g_poke[];

__asm__(
    ".pushsection .text\n"
    ".intel_syntax noprefix\n"
    ".p2align 12\n"
    "mc_guest_begin:\n"

    /* g_xadd(counter, n): n x `lock xadd [counter], 1` (Go's atomic.Xadd64) */
    "g_xadd:\n"
    "1: mov eax, 1\n"
    "   lock xadd qword ptr [rdi], rax\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_lockinc(counter, n): n x `lock inc [counter]` */
    "g_lockinc:\n"
    "1: lock inc qword ptr [rdi]\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_lockadd(counter, n): n x `lock add [counter], 1` */
    "g_lockadd:\n"
    "1: lock add qword ptr [rdi], 1\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_cas(counter, n): n increments by a `lock cmpxchg` retry loop (Go's atomic.Cas64 pattern) */
    "g_cas:\n"
    "1: mov rax, qword ptr [rdi]\n"
    "2: lea rdx, [rax+1]\n"
    "   lock cmpxchg qword ptr [rdi], rdx\n"
    "   jnz 2b\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_xchglock(lock, n): a spin lock taken with `xchg` (no LOCK prefix needed: xchg with memory is always
       locked; Go's atomic.Xchg and atomic.Store are XCHG) around a plain increment of the word at lock+64;
       released with a plain store, as x86 TSO allows */
    "g_xchglock:\n"
    "1: mov eax, 1\n"
    "   xchg dword ptr [rdi], eax\n"
    "   test eax, eax\n"
    "   jz 3f\n"
    "2: pause\n"
    "   cmp dword ptr [rdi], 0\n"
    "   jne 2b\n"
    "   jmp 1b\n"
    "3: mov rax, qword ptr [rdi+64]\n"
    "   add rax, 1\n"
    "   mov qword ptr [rdi+64], rax\n"
    "   mov dword ptr [rdi], 0\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_plaininc(counter, n): `add [counter], 1` without LOCK: loses updates on real hardware too (control) */
    "g_plaininc:\n"
    "1: add qword ptr [rdi], 1\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_alu(n) -> rax: registers only, 6 instructions an iteration (an LCG with an xorshift) */
    "g_alu:\n"
    "   mov rax, rdi\n"
    "   mov rcx, 0x5851f42d4c957f2d\n"
    "   mov rdx, 0x14057b7ef767814f\n"
    "1: imul rax, rcx\n"
    "   add rax, rdx\n"
    "   mov r8, rax\n"
    "   shr r8, 17\n"
    "   xor rax, r8\n"
    "   dec rdi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_store(buf, n): n 8-byte stores over an 8 KiB buffer, 6 instructions an iteration */
    "g_store:\n"
    "   xor ecx, ecx\n"
    "1: mov eax, ecx\n"
    "   and eax, 1023\n"
    "   mov qword ptr [rdi+rax*8], rcx\n"
    "   add rcx, 1\n"
    "   cmp rcx, rsi\n"
    "   jne 1b\n"
    "   ret\n"

    /* g_litmus(base, n, results, role, ctl, kind): n rounds of a two-thread litmus test. Round i uses the fresh
       slot base+i*128 (x at +0, y at +64, both zero) and starts with a barrier on ctl (role 0's round count at
       ctl+0, role 1's at ctl+64, plain stores and loads). results[i] = what this thread loaded.
         kind 0 SB:        store 1 to mine, load other's        (TSO allows both loading 0)
         kind 1 SB+mfence: store, MFENCE, load                  (both 0 forbidden)
         kind 2 SB+xchg:   XCHG 1 into mine, load other's       (both 0 forbidden: XCHG is a full barrier)
         kind 3 SB+lock:   LOCK ADD 1 to mine, load other's     (both 0 forbidden)
         kind 4 MP:        role 0 stores x=1 then y=1; role 1 loads y then x; result (y<<1)|x (2 forbidden) */
    "g_litmus:\n"
    "   push rbx\n"
    "   push r12\n"
    "   push r13\n"
    "   push r14\n"
    "   push r15\n"
    "   mov r10, rcx\n"
    "   mov r11, r10\n"
    "   shl r11, 6\n"          /* mine = role*64 */
    "   mov r12, 1\n"
    "   sub r12, r10\n"
    "   shl r12, 6\n"          /* other = (1-role)*64 */
    "   xor r13d, r13d\n"      /* i */
    "10: lea rax, [r13+1]\n"
    "   mov qword ptr [r8+r11], rax\n"
    "11: cmp qword ptr [r8+r12], rax\n"
    "   jae 12f\n"
    "   pause\n"
    "   jmp 11b\n"
    "12: mov r14, r13\n"
    "   shl r14, 7\n"
    "   add r14, rdi\n"         /* slot */
    "   mov r15d, 1\n"
    "   cmp r9, 4\n"
    "   je 24f\n"
    "   cmp r9, 1\n"
    "   je 21f\n"
    "   cmp r9, 2\n"
    "   je 22f\n"
    "   cmp r9, 3\n"
    "   je 23f\n"
    "20: mov qword ptr [r14+r11], r15\n"
    "   mov rax, qword ptr [r14+r12]\n"
    "   jmp 30f\n"
    "21: mov qword ptr [r14+r11], r15\n"
    "   mfence\n"
    "   mov rax, qword ptr [r14+r12]\n"
    "   jmp 30f\n"
    "22: xchg qword ptr [r14+r11], r15\n"
    "   mov rax, qword ptr [r14+r12]\n"
    "   jmp 30f\n"
    "23: lock add qword ptr [r14+r11], 1\n"
    "   mov rax, qword ptr [r14+r12]\n"
    "   jmp 30f\n"
    "24: test r10, r10\n"
    "   jnz 25f\n"
    "   mov qword ptr [r14], r15\n"
    "   mov qword ptr [r14+64], r15\n"
    "   xor eax, eax\n"
    "   jmp 30f\n"
    "25: mov rax, qword ptr [r14+64]\n"
    "   mov rbx, qword ptr [r14]\n"
    "   shl rax, 1\n"
    "   or rax, rbx\n"
    "30: mov qword ptr [rdx+r13*8], rax\n"
    "   inc r13\n"
    "   cmp r13, rsi\n"
    "   jne 10b\n"
    "   pop r15\n"
    "   pop r14\n"
    "   pop r13\n"
    "   pop r12\n"
    "   pop rbx\n"
    "   ret\n"

    /* g_stopcheck(p, n): instructions that both access memory and change registers, so re-executing one after
       a stop in its middle shows: afterwards p[0] = n, p[1] = n(n+1)/2, p[2] = 3n */
    "g_stopcheck:\n"
    "1: add qword ptr [rdi], 1\n"
    "   push rsi\n"
    "   pop rax\n"
    "   add qword ptr [rdi+8], rax\n"
    "   mov rax, qword ptr [rdi+16]\n"
    "   lea rax, [rax+3]\n"
    "   mov qword ptr [rdi+16], rax\n"
    "   dec rsi\n"
    "   jnz 1b\n"
    "   ret\n"

    /* g_poke(addr, byte): a guest store of one byte (used to rewrite g_ret_const's immediate) */
    "g_poke:\n"
    "   mov byte ptr [rdi], sil\n"
    "   ret\n"

    "mc_guest_end:\n"
    /* g_ret_const() -> 1; its own page, so the smc test can make it writable. Not in the copied block. */
    ".p2align 12\n"
    "g_ret_const:\n"
    "   mov eax, 1\n"
    "   ret\n"
    ".p2align 12\n"
    ".att_syntax prefix\n"
    ".popsection\n");
/* the immediate of `mov eax, imm32` (b8 imm32) */
__asm__(".set g_ret_const_imm, g_ret_const+1\n");

/* ------------------------------------------------------------------ guest layout and engines */

#define CODE 0x400000ull                 /* the copied routines, RX */
#define CODE2 0x500000ull                /* g_ret_const's page (smc test) */
#define EXIT 0x3ff000ull                 /* an RX page of `hlt`; uc_emu_start runs until its first byte */
#define DATA 0x10000000ull               /* shared data, RW */
#define STACKS 0x40000000ull             /* one 64 KiB stack per engine, 1 MiB apart */
#define STACK_SIZE 0x10000ull

static size_t data_size = 64ull << 20;
static void *code_host, *exit_host, *data_host, *stacks_host;
#define MAX_THREADS 16

static void *host_pages(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

static uint64_t code_size(void) { return (uint64_t)(mc_guest_end - mc_guest_begin + 4095) & ~4095ull; }
static uint64_t gaddr(const char *routine) { return CODE + (uint64_t)(routine - mc_guest_begin); }
static void *data_ptr(uint64_t guest) { return (char *)data_host + (guest - DATA); }

static void setup_memory(void) {
    code_host = host_pages(code_size());
    memcpy(code_host, mc_guest_begin, (size_t)(mc_guest_end - mc_guest_begin));
    exit_host = host_pages(4096);
    memset(exit_host, 0xf4, 4096); /* hlt */
    data_host = host_pages(data_size);
    stacks_host = host_pages(MAX_THREADS * STACK_SIZE);
}

/* A new engine with the shared layout mapped: the same host memory in every engine. */
static uc_engine *new_engine(void) {
    uc_engine *e;
    CHECK(uc.open(UC_ARCH_X86, UC_MODE_64, &e));
    CHECK(uc.mem_map_ptr(e, CODE, code_size(), UC_PROT_READ | UC_PROT_EXEC, code_host));
    CHECK(uc.mem_map_ptr(e, EXIT, 4096, UC_PROT_READ | UC_PROT_EXEC, exit_host));
    CHECK(uc.mem_map_ptr(e, DATA, data_size, UC_PROT_READ | UC_PROT_WRITE, data_host));
    for (int i = 0; i < MAX_THREADS; i++)
        CHECK(uc.mem_map_ptr(e, STACKS + (uint64_t)i * 0x100000, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE,
                             (char *)stacks_host + (size_t)i * STACK_SIZE));
    return e;
}

/* Sets up a call of `fn(a0..a5)` on engine e using stack slot `slot`; run it with run_call. */
static void prepare_call(uc_engine *e, int slot, uint64_t fn, const uint64_t a[6]) {
    uint64_t sp = STACKS + (uint64_t)slot * 0x100000 + STACK_SIZE - 64;
    uint64_t ret = EXIT;
    memcpy((char *)stacks_host + (size_t)slot * STACK_SIZE + (sp - STACKS - (uint64_t)slot * 0x100000), &ret, 8);
    int regs[6] = {UC_RDI, UC_RSI, UC_RDX, UC_RCX, UC_R8, UC_R9};
    for (int i = 0; i < 6; i++) CHECK(uc.reg_write(e, regs[i], &a[i]));
    CHECK(uc.reg_write(e, UC_RSP, &sp));
    CHECK(uc.reg_write(e, UC_RIP, &fn));
}

/* Set when a run is given up (a deadlocked guest): run_call returns at its next stop. */
static atomic_int abandon;

/* Runs from the current RIP until EXIT; returns how many uc_emu_start calls it took (stops from elsewhere). */
static long run_call(uc_engine *e, uint64_t *rax) {
    long starts = 0;
    while (!atomic_load(&abandon)) {
        uint64_t rip;
        CHECK(uc.reg_read(e, UC_RIP, &rip));
        if (rip == EXIT) break;
        starts++;
        CHECK(uc.emu_start(e, rip, EXIT, 0, 0));
    }
    if (rax) CHECK(uc.reg_read(e, UC_RAX, rax));
    return starts;
}

static uint64_t call(uc_engine *e, int slot, uint64_t fn, uint64_t a0, uint64_t a1) {
    uint64_t a[6] = {a0, a1, 0, 0, 0, 0}, rax;
    prepare_call(e, slot, fn, a);
    run_call(e, &rax);
    return rax;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A start line for the worker threads, so that they run at the same time. */
static pthread_barrier_t start_line;

/* ------------------------------------------------------------------ atomic: lost updates */

struct worker {
    int slot;
    uc_engine *e;
    uint64_t fn, a[6];
    int native;
    double wall, cpu;
    uint64_t rax;
};

typedef uint64_t (*native_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static void *worker_main(void *arg) {
    struct worker *w = arg;
    if (!w->native) prepare_call(w->e, w->slot, w->fn, w->a);
    pthread_barrier_wait(&start_line);
    double t0 = now(), c0 = thread_cpu();
    if (w->native) {
        native_fn f = (native_fn)(mc_guest_begin + (w->fn - CODE));
        w->rax = f(w->a[0], w->a[1], w->a[2], w->a[3], w->a[4], w->a[5]);
    } else {
        run_call(w->e, &w->rax);
    }
    w->wall = now() - t0;
    w->cpu = thread_cpu() - c0;
    return NULL;
}

static int run_limit_seconds = 60;

/* Runs `threads` workers at once, each on its own engine (or natively). Returns 0, or -1 if they were still
   running after run_limit_seconds (a guest deadlock): then the engines are stopped and the run abandoned. */
static int run_workers(int threads, struct worker *ws, int native, uc_engine **engines) {
    pthread_t th[MAX_THREADS];
    int timed_out = 0;
    atomic_store(&abandon, 0);
    pthread_barrier_init(&start_line, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        ws[i].slot = i;
        ws[i].native = native;
        ws[i].e = native ? NULL : engines[i];
        pthread_create(&th[i], NULL, worker_main, &ws[i]);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += run_limit_seconds;
    for (int i = 0; i < threads; i++) {
        if (!timed_out && pthread_timedjoin_np(th[i], NULL, &deadline) == 0) continue;
        if (native) { fprintf(stderr, "mcbench: native run did not finish\n"); exit(1); }
        timed_out = 1;
        atomic_store(&abandon, 1);
        while (pthread_tryjoin_np(th[i], NULL) != 0) {
            uc.emu_stop(engines[i]);
            usleep(1000);
        }
    }
    pthread_barrier_destroy(&start_line);
    return timed_out ? -1 : 0;
}

static int test_atomic(int threads, long n, int native) {
    static const struct { const char *name; const char *fn; int offset; } kinds[] = {
        {"lock xadd", g_xadd, 0}, {"lock inc", g_lockinc, 0}, {"lock add", g_lockadd, 0},
        {"lock cmpxchg loop", g_cas, 0}, {"xchg spin lock + plain inc", g_xchglock, 64},
        {"add without lock (control)", g_plaininc, 0},
    };
    uc_engine *engines[MAX_THREADS];
    if (!native) for (int i = 0; i < threads; i++) engines[i] = new_engine();
    printf("atomic: %d threads x %ld increments of one shared counter, %s\n", threads, n,
           native ? "native" : "one Unicorn engine per thread");
    printf("  %-28s %14s %14s %10s %8s\n", "instruction", "expected", "got", "lost", "wall s");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint64_t counter = DATA + 4096 * (k + 1);
        uint64_t *host = data_ptr(counter);
        memset(host, 0, 128);
        struct worker ws[MAX_THREADS];
        memset(ws, 0, sizeof ws);
        for (int i = 0; i < threads; i++) {
            ws[i].fn = gaddr(kinds[k].fn);
            ws[i].a[0] = native ? (uint64_t)(uintptr_t)host : counter;
            ws[i].a[1] = (uint64_t)n;
        }
        double t0 = now();
        if (run_workers(threads, ws, native, engines) < 0) {
            printf("  %-28s %14" PRIu64 " %14s   (deadlock: still running after %d s, given up)\n", kinds[k].name,
                   (uint64_t)threads * (uint64_t)n, "-", run_limit_seconds);
            continue;
        }
        double wall = now() - t0;
        uint64_t got = host[kinds[k].offset / 8], want = (uint64_t)threads * (uint64_t)n;
        printf("  %-28s %14" PRIu64 " %14" PRIu64 " %9.4f%% %8.2f\n", kinds[k].name, want, got,
               100.0 * (double)(want - got) / (double)want, wall);
    }
    if (!native) for (int i = 0; i < threads; i++) uc.close(engines[i]);
    return 0;
}

/* ------------------------------------------------------------------ litmus: memory ordering */

static int test_litmus(long n, int native) {
    static const char *names[] = {"SB (store; load)", "SB+mfence", "SB+xchg", "SB+lock add", "MP (x;y | y;x)"};
    static const char *forbidden[] = {"allowed by TSO", "forbidden", "forbidden", "forbidden", "forbidden"};
    uc_engine *engines[2] = {NULL, NULL};
    if (!native) for (int i = 0; i < 2; i++) engines[i] = new_engine();
    /* slots: n*128 bytes; results: 2 x n x 8; ctl: 128 */
    size_t need = (size_t)n * 128 + (size_t)n * 16 + 4096 * 2;
    if (need > data_size) { fprintf(stderr, "mcbench: -n too large for the data region\n"); return 1; }
    printf("litmus: 2 threads x %ld rounds, %s\n", n, native ? "native" : "one Unicorn engine per thread");
    printf("  %-18s %-16s %12s %12s\n", "test", "relaxed outcome", "seen", "per million");
    for (int kind = 0; kind < 5; kind++) {
        memset(data_host, 0, need);
        uint64_t ctl = DATA, slots = DATA + 4096, res0 = slots + (uint64_t)n * 128, res1 = res0 + (uint64_t)n * 8;
        struct worker ws[2];
        memset(ws, 0, sizeof ws);
        for (int r = 0; r < 2; r++) {
            uint64_t g[6] = {slots, (uint64_t)n, r ? res1 : res0, (uint64_t)r, ctl, (uint64_t)kind};
            for (int j = 0; j < 6; j++) ws[r].a[j] = g[j];
            if (native) {
                ws[r].a[0] = (uint64_t)(uintptr_t)data_ptr(slots);
                ws[r].a[2] = (uint64_t)(uintptr_t)data_ptr(r ? res1 : res0);
                ws[r].a[4] = (uint64_t)(uintptr_t)data_ptr(ctl);
            }
            ws[r].fn = gaddr(g_litmus);
        }
        if (run_workers(2, ws, native, engines) < 0) { printf("  %-18s did not finish\n", names[kind]); continue; }
        const uint64_t *r0 = data_ptr(res0), *r1 = data_ptr(res1);
        long seen = 0;
        for (long i = 0; i < n; i++) {
            if (kind < 4) seen += r0[i] == 0 && r1[i] == 0;
            else seen += r1[i] == 2;
        }
        printf("  %-18s %-16s %12ld %12.1f\n", names[kind], forbidden[kind], seen, 1e6 * (double)seen / (double)n);
    }
    if (!native) for (int i = 0; i < 2; i++) uc.close(engines[i]);
    return 0;
}

/* ------------------------------------------------------------------ scale: parallel speed-up */

static int test_scale(int threads, long n, const char *kind) {
    uc_engine *engines[MAX_THREADS];
    for (int i = 0; i < threads; i++) engines[i] = new_engine();
    struct worker ws[MAX_THREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < threads; i++) {
        if (!strcmp(kind, "alu")) { ws[i].fn = gaddr(g_alu); ws[i].a[0] = (uint64_t)n; }
        else if (!strcmp(kind, "store")) { ws[i].fn = gaddr(g_store); ws[i].a[0] = DATA + 0x100000ull * (uint64_t)(i + 1); ws[i].a[1] = (uint64_t)n; }
        else if (!strcmp(kind, "xadd")) { ws[i].fn = gaddr(g_xadd); ws[i].a[0] = DATA + 0x100000ull * (uint64_t)(i + 1); ws[i].a[1] = (uint64_t)n; }
        else if (!strcmp(kind, "xadd-shared")) { ws[i].fn = gaddr(g_xadd); ws[i].a[0] = DATA; ws[i].a[1] = (uint64_t)n; }
        else { fprintf(stderr, "mcbench: unknown kind %s\n", kind); return 2; }
    }
    double t0 = now();
    if (run_workers(threads, ws, 0, engines) < 0) { printf("scale: did not finish\n"); return 1; }
    double wall = now() - t0, cpu = 0, slowest = 0;
    for (int i = 0; i < threads; i++) { cpu += ws[i].cpu; if (ws[i].wall > slowest) slowest = ws[i].wall; }
    printf("scale: %s, %d thread(s) x %ld iterations, one engine each: wall %.3f s, cpu %.3f s, %.1f M iterations/s in all\n",
           kind, threads, n, wall, cpu, (double)threads * (double)n / wall / 1e6);
    for (int i = 0; i < threads; i++) uc.close(engines[i]);
    return 0;
}

/* ------------------------------------------------------------------ stop: uc_emu_stop from another thread */

static atomic_int stop_done;
static long stop_period_us = 50;
static int use_interrupt; /* --interrupt: goemu_engine_interrupt instead of uc_emu_stop */
static atomic_long stops_sent;

static void *stopper_main(void *arg) {
    uc_engine *e = arg;
    unsigned seed = 12345;
    while (!atomic_load(&stop_done)) {
        struct timespec ts = {0, (long)(stop_period_us / 2 + rand_r(&seed) % (unsigned long)(stop_period_us + 1)) * 1000};
        nanosleep(&ts, NULL);
        if (atomic_load(&stop_done)) break;
        if (use_interrupt) uc.interrupt(e); else uc.emu_stop(e);
        atomic_fetch_add(&stops_sent, 1);
    }
    return NULL;
}

static int test_stop(long n, int rounds) {
    uc_engine *e = new_engine();
    int bad = 0;
    long total_starts = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++) {
        uint64_t p = DATA + 0x2000;
        uint64_t *h = data_ptr(p);
        memset(h, 0, 64);
        uint64_t a[6] = {p, (uint64_t)n, 0, 0, 0, 0};
        prepare_call(e, 0, gaddr(g_stopcheck), a);
        atomic_store(&stop_done, 0);
        pthread_t th;
        pthread_create(&th, NULL, stopper_main, e);
        long starts = run_call(e, NULL);
        atomic_store(&stop_done, 1);
        pthread_join(th, NULL);
        total_starts += starts;
        uint64_t want1 = (uint64_t)n * (uint64_t)(n + 1) / 2;
        if (h[0] != (uint64_t)n || h[1] != want1 || h[2] != 3 * (uint64_t)n) {
            bad++;
            if (bad <= 3)
                printf("  round %d: p[0]=%" PRIu64 " (want %ld) p[1]=%" PRIu64 " (want %" PRIu64 ") p[2]=%" PRIu64
                       " (want %" PRIu64 ") after %ld starts\n", r, h[0], n, h[1], want1, h[2], 3 * (uint64_t)n, starts);
        }
    }
    printf("stop: %d rounds of %ld iterations, %s from another thread every ~%ld us: %ld stops sent, "
           "%ld restarts, %d rounds with wrong guest state (%.1f s)\n", rounds, n,
           use_interrupt ? "goemu_engine_interrupt" : "uc_emu_stop", stop_period_us,
           atomic_load(&stops_sent), total_starts - rounds, bad, now() - t0);
    uc.close(e);
    return bad != 0;
}

/* ------------------------------------------------------------------ smc: code changed under another engine */

static int test_smc(void) {
    void *code2 = host_pages(4096);
    memcpy(code2, g_ret_const, 4096);
    uc_engine *a = new_engine(), *b = new_engine();
    CHECK(uc.mem_map_ptr(a, CODE2, 4096, UC_PROT_ALL, code2));
    CHECK(uc.mem_map_ptr(b, CODE2, 4096, UC_PROT_ALL, code2));
    uint64_t fn = CODE2, imm = CODE2 + (uint64_t)(g_ret_const_imm - g_ret_const);
    printf("smc: g() is `mov eax, IMM; ret` on an RWX page mapped in engines A and B\n");
    printf("  A runs g: %" PRIu64 "\n", call(a, 0, fn, 0, 0));
    printf("  B runs g: %" PRIu64 "\n", call(b, 1, fn, 0, 0));
    call(b, 1, gaddr(g_poke), imm, 2);
    printf("  B stores IMM=2 with a guest store; B runs g: %" PRIu64 ", A runs g: %" PRIu64 "\n",
           call(b, 1, fn, 0, 0), call(a, 0, fn, 0, 0));
    ((unsigned char *)code2)[imm - CODE2] = 3;
    printf("  the host (the Java kernel, say) writes IMM=3; B runs g: %" PRIu64 ", A runs g: %" PRIu64 "\n",
           call(b, 1, fn, 0, 0), call(a, 0, fn, 0, 0));
    CHECK(uc.ctl(a, UC_CTL_TB_REMOVE_CACHE_W, fn, fn + 4096));
    CHECK(uc.ctl(b, UC_CTL_TB_REMOVE_CACHE_W, fn, fn + 4096));
    printf("  after uc_ctl_remove_cache on both; B runs g: %" PRIu64 ", A runs g: %" PRIu64 "\n",
           call(b, 1, fn, 0, 0), call(a, 0, fn, 0, 0));
    uc.close(a);
    uc.close(b);
    return 0;
}

/* ------------------------------------------------------------------ maps: cost of keeping every engine's map */

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static int test_maps(int regions) {
    uc_engine *e = new_engine();
    /* `regions` extra mappings, like the VMAs of a Go process (arenas, stacks, reservations) */
    size_t rsize = 64 << 10;
    char *extra = regions ? host_pages((size_t)regions * rsize) : NULL;
    for (int i = 0; i < regions; i++)
        CHECK(uc.mem_map_ptr(e, 0x1000000000ull + (uint64_t)i * 0x1000000ull, rsize, UC_PROT_READ | UC_PROT_WRITE,
                             extra + (size_t)i * rsize));
    /* warm the engine: translate and run something that touches the data region */
    call(e, 0, gaddr(g_store), DATA + 0x100000, 100000);
    int reps = 1000;
    char *big = host_pages(64ull << 20);
    uint64_t where = 0x200000000ull;
    double t_map = 0, t_unmap = 0;
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        CHECK(uc.mem_map_ptr(e, where, 64 << 10, UC_PROT_READ | UC_PROT_WRITE, big));
        double t1 = now();
        CHECK(uc.mem_unmap(e, where, 64 << 10));
        t_unmap += now() - t1;
        t_map += t1 - t0;
    }
    /* Go's pattern: reserve PROT_NONE, then commit pieces read-write (goemu turns that into mem_protect) */
    CHECK(uc.mem_map_ptr(e, where, 64ull << 20, UC_PROT_NONE, big));
    double t0 = now();
    for (int i = 0; i < 256; i++)
        CHECK(uc.mem_protect(e, where + (uint64_t)i * 0x40000ull, 0x40000, UC_PROT_READ | UC_PROT_WRITE));
    double protect = (now() - t0) / 256;
    CHECK(uc.mem_unmap(e, where, 64ull << 20));
    t0 = now();
    for (int i = 0; i < reps; i++) CHECK(uc.ctl(e, UC_CTL_TB_FLUSH_W, 0));
    double flush = (now() - t0) / reps;
    /* a fresh engine's start-up (open, map the layout, first run) and what 8 such engines add to the RSS */
    long rss0 = rss_kb();
    uc_engine *fs[8];
    t0 = now();
    for (int i = 0; i < 8; i++) {
        fs[i] = new_engine();
        call(fs[i], 1, gaddr(g_alu), 1000, 0);
        call(fs[i], 1, gaddr(g_store), DATA + 0x100000, 1000);
    }
    double fresh = (now() - t0) / 8;
    long per_engine = (rss_kb() - rss0) / 8;
    for (int i = 0; i < 8; i++) uc.close(fs[i]);
    printf("maps: engine with %d extra regions, per call: uc_mem_map_ptr 64 KiB %.1f us, uc_mem_unmap %.1f us; "
           "uc_mem_protect of a 256 KiB piece of a 64 MiB PROT_NONE region %.1f us; tb flush %.1f us; "
           "a new engine with the layout mapped, first run %.2f ms, %ld KiB of RSS\n", regions, t_map / reps * 1e6,
           t_unmap / reps * 1e6, protect * 1e6, flush * 1e6, fresh * 1e3, per_engine);
    uc.close(e);
    return 0;
}

static int child_result(pid_t pid, int seconds) {
    for (int i = 0; i < seconds * 100; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* ------------------------------------------------------------------ shootdown: one map change, every engine */

#define SHOOT_REGION 0x300000000ull

static atomic_int sd_pending, sd_quit;
static double sd_acked;
static uc_engine *sd_engine;

/* Runs g_alu endlessly on sd_engine; whenever it is stopped with a change pending, applies it (toggles the
   mapping of SHOOT_REGION) before resuming, as an engine thread of a multi-engine goemu would. */
static void *shoot_worker(void *host) {
    uc_engine *e = sd_engine;
    int mapped = 1;
    uint64_t a[6] = {1ull << 62, 0, 0, 0, 0, 0};
    prepare_call(e, 2, gaddr(g_alu), a);
    while (!atomic_load(&sd_quit)) {
        uint64_t rip;
        CHECK(uc.reg_read(e, UC_RIP, &rip));
        CHECK(uc.emu_start(e, rip, EXIT, 0, 0));
        if (atomic_load(&sd_pending)) {
            if (mapped) CHECK(uc.mem_unmap(e, SHOOT_REGION, 1 << 20));
            else CHECK(uc.mem_map_ptr(e, SHOOT_REGION, 1 << 20, UC_PROT_READ | UC_PROT_WRITE, host));
            mapped = !mapped;
            sd_acked = now();
            atomic_store(&sd_pending, 0);
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int test_shootdown(void) {
    printf("shootdown: engines A and B map the same host pages R\n");
    /* 1: the host memory behind R is freed while B still maps it (each in a child: it may crash) */
    for (int proper = 0; proper < 2; proper++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            char *h = host_pages(1 << 20);
            uc_engine *a = new_engine(), *b = new_engine();
            CHECK(uc.mem_map_ptr(a, SHOOT_REGION, 1 << 20, UC_PROT_READ | UC_PROT_WRITE, h));
            CHECK(uc.mem_map_ptr(b, SHOOT_REGION, 1 << 20, UC_PROT_READ | UC_PROT_WRITE, h));
            call(b, 1, gaddr(g_store), SHOOT_REGION, 1000);
            CHECK(uc.mem_unmap(a, SHOOT_REGION, 1 << 20));
            if (proper) CHECK(uc.mem_unmap(b, SHOOT_REGION, 1 << 20));
            munmap(h, 1 << 20);
            uint64_t args[6] = {SHOOT_REGION, 1000, 0, 0, 0, 0};
            prepare_call(b, 1, gaddr(g_store), args);
            uc_err err = uc.emu_start(b, gaddr(g_store), EXIT, 0, 0);
            printf("  unmapped in A%s, host pages freed, B stores to R: uc_emu_start: %s\n",
                   proper ? " and B" : " only", err ? uc.strerror(err) : "OK");
            fflush(stdout);
            _exit(0);
        }
        int st = child_result(pid, 10);
        if (st != 0) printf("  unmapped in A%s, host pages freed, B stores to R: the process died (%s)\n",
                            proper ? " and B" : " only", st == 128 + SIGSEGV ? "host SIGSEGV" : "other");
    }
    /* 2: latency of applying one change to a running engine: interrupt it, it applies the change at its next
       stop, acknowledges; the requesting thread waits for the acknowledgement */
    char *h = host_pages(1 << 20);
    sd_engine = new_engine();
    CHECK(uc.mem_map_ptr(sd_engine, SHOOT_REGION, 1 << 20, UC_PROT_READ | UC_PROT_WRITE, h));
    pthread_t th;
    atomic_store(&sd_quit, 0);
    pthread_create(&th, NULL, shoot_worker, h);
    enum { N = 400 };
    static double lat[N];
    usleep(20000);
    for (int i = 0; i < N; i++) {
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
        double t0 = now();
        atomic_store(&sd_pending, 1);
        if (uc.interrupt) uc.interrupt(sd_engine); else uc.emu_stop(sd_engine);
        while (atomic_load(&sd_pending)) { if (now() - t0 > 0.001) { if (uc.interrupt) uc.interrupt(sd_engine); else uc.emu_stop(sd_engine); } sched_yield(); }
        lat[i] = sd_acked - t0;
    }
    atomic_store(&sd_quit, 1);
    if (uc.interrupt) uc.interrupt(sd_engine); else uc.emu_stop(sd_engine);
    pthread_join(th, NULL);
    qsort(lat, N, sizeof lat[0], cmp_double);
    printf("  a running engine stopped with %s, R unmapped or mapped again there, acknowledged: "
           "median %.1f us, 90th percentile %.1f us, max %.1f us (%d changes)\n",
           uc.interrupt ? "goemu_engine_interrupt" : "uc_emu_stop", lat[N / 2] * 1e6, lat[N * 9 / 10] * 1e6,
           lat[N - 1] * 1e6, N);
    uc.close(sd_engine);
    return 0;
}

/* ------------------------------------------------------------------ open: engines created and closed concurrently */

static long open_rounds = 100;

static void *open_worker(void *arg) {
    int slot = (int)(intptr_t)arg;
    for (long i = 0; i < open_rounds; i++) {
        uc_engine *e = new_engine();
        uint64_t r = call(e, slot, gaddr(g_alu), 1000 + (uint64_t)i, 0);
        uc.close(e);
        if (r == 0) abort();
    }
    return NULL;
}

static int test_open(int threads, long rounds) {
    open_rounds = rounds;
    pthread_t th[MAX_THREADS];
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, open_worker, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    double wall = now() - t0;
    printf("open: %d threads each opened, mapped, ran and closed %ld engines at the same time: no crash "
           "(%.2f s, %.2f ms an engine in each thread)\n", threads, rounds, wall, wall * 1e3 / (double)rounds);
    return 0;
}

/* ------------------------------------------------------------------ unmapped: LOCK RMW where a plain store faults */

static int test_unmapped(void) {
    static const struct { const char *what; uint64_t addr; } cases[] = {
        {"unmapped", 0x7000000000ull}, {"read-only", EXIT + 8}, {"misaligned", DATA + 0x3003}};
    static const struct { const char *name; const char *fn; } ops[] = {{"add (plain)", g_plaininc},
        {"lock xadd", g_xadd}};
    printf("unmapped: one RMW on a bad address, each in a child process (5 s limit)\n");
    for (size_t c = 0; c < 3; c++) {
        for (size_t o = 0; o < 2; o++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                uc_engine *e = new_engine();
                uint64_t a[6] = {cases[c].addr, 1, 0, 0, 0, 0};
                prepare_call(e, 0, gaddr(ops[o].fn), a);
                uint64_t rip = gaddr(ops[o].fn);
                uc_err err = uc.emu_start(e, rip, EXIT, 0, 0);
                uint64_t word = 0;
                if (cases[c].addr == EXIT + 8) memcpy(&word, (char *)exit_host + 8, 8);
                else if (cases[c].addr >= DATA && cases[c].addr < DATA + data_size) memcpy(&word, data_ptr(cases[c].addr), 8);
                printf("  %-10s %-12s uc_emu_start: %s; word there now %#" PRIx64 "\n", cases[c].what, ops[o].name,
                       err ? uc.strerror(err) : "OK (no fault)", word);
                fflush(stdout);
                _exit(0);
            }
            int st = child_result(pid, 5);
            if (st != 0) printf("  %-10s %-12s %s\n", cases[c].what, ops[o].name,
                                st < 0 ? "did not return within 5 s (killed)" : "child died");
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    const char *lib = getenv("GOEMU_UNICORN_LIB"), *test = NULL;
    int threads = 2, native = 0, regions = 64, rounds = 20;
    long n = 0;
    const char *kind = "alu";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lib") && i + 1 < argc) lib = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atol(argv[++i]);
        else if (!strcmp(argv[i], "-k") && i + 1 < argc) kind = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) regions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-p") && i + 1 < argc) stop_period_us = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--native")) native = 1;
        else if (!strcmp(argv[i], "--interrupt")) use_interrupt = 1;
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) run_limit_seconds = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !test) test = argv[i];
        else { fprintf(stderr, "mcbench: unknown option %s\n", argv[i]); return 2; }
    }
    if (!test) {
        fprintf(stderr, "usage: mcbench [--lib libunicorn.so.2] atomic|litmus|scale|stop|smc|maps|unmapped [options]\n");
        return 2;
    }
    if (threads < 1 || threads > MAX_THREADS) { fprintf(stderr, "mcbench: 1 to %d threads\n", MAX_THREADS); return 2; }
    if (!native) {
        if (!lib) { fprintf(stderr, "mcbench: give --lib or set GOEMU_UNICORN_LIB\n"); return 2; }
        load_unicorn(lib);
    }
    if (use_interrupt && !uc.interrupt) { fprintf(stderr, "mcbench: %s has no goemu_engine_interrupt\n", lib); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    setup_memory();
    if (!strcmp(test, "atomic")) return test_atomic(threads, n ? n : 10000000, native);
    if (!strcmp(test, "litmus")) return test_litmus(n ? n : 200000, native);
    if (!strcmp(test, "scale")) return test_scale(threads, n ? n : 50000000, kind);
    if (!strcmp(test, "stop")) return test_stop(n ? n : 2000000, rounds);
    if (!strcmp(test, "smc")) return test_smc();
    if (!strcmp(test, "maps")) return test_maps(regions);
    if (!strcmp(test, "unmapped")) return test_unmapped();
    if (!strcmp(test, "shootdown")) return test_shootdown();
    if (!strcmp(test, "open")) return test_open(threads, n ? n : 100);
    fprintf(stderr, "mcbench: unknown test %s\n", test);
    return 2;
}
