/*
 * goemu_syscall.c: the guest's clock without a trip into Java.
 *
 * Why it exists: goemu gives the guest no vDSO, so every Go nanotime()/walltime() is a SYSCALL instruction, and a
 * busy program makes millions. This is the engine's SYSCALL hook (UC_HOOK_INSN): it answers clock_gettime for the
 * clocks Linux's vDSO answers, gettimeofday, time and getcpu from the host's clocks, and calls the Java hook (an
 * upcall stub whose address Java stores) for every other syscall, or for all of them while `enabled` is 0.
 * Results are Linux's, from the same clocks as the Java kernel's (dev.goemu.syscalls.TimeSyscalls), registers as
 * Emulator.onSyscall leaves them. Unicorn is called through pointers Java stores, so this needs no
 * Unicorn header and no link to libunicorn.
 *
 * In deterministic mode (goemu run --deterministic) the engine's translated blocks count themselves down in the
 * engine's goemu_blocks_left (goemu's engine patch), which ends the running thread's slice; the clocks are then
 * virtual, a function of the blocks executed (dev.goemu.emulator.VirtualClock), answered here the same way, and
 * RDTSC reads the virtual clock too (the Go runtime seeds its per-M random state from it).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

struct goemu_syscall {                 /* allocated and laid out by dev.goemu.unicorn.FastSyscalls */
    void (*java_hook)(void *uc, void *user_data);
    int (*reg_read)(void *uc, int regid, void *value);
    int (*reg_write)(void *uc, int regid, const void *value);
    int (*mem_write)(void *uc, uint64_t address, const void *bytes, uint64_t size);
    volatile int32_t enabled;          /* set by Java; 0 sends everything to the Java kernel */
    int32_t virtual_time;              /* 1: the clocks below, not the host's (deterministic mode) */
    const int64_t *blocks_left;        /* the engine's count of blocks left in the slice */
    int64_t slice_end;                 /* blocks executed when the slice ends */
    int64_t monotonic_base;            /* virtual CLOCK_MONOTONIC at blocks 0, plus every idle jump */
    int64_t realtime_offset;           /* virtual CLOCK_REALTIME - CLOCK_MONOTONIC */
    int64_t ns_per_block;              /* virtual cost of one block */
};

static int64_t virtual_monotonic(const struct goemu_syscall *s) {
    return s->monotonic_base + (s->slice_end - *s->blocks_left) * s->ns_per_block;
}

/* A clock of the vDSO set, host or virtual. */
static void read_clock(const struct goemu_syscall *s, int32_t id, struct timespec *ts) {
    if (!s->virtual_time) {
        clock_gettime(id, ts);
        return;
    }
    int64_t ns = virtual_monotonic(s);
    if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) ns += s->realtime_offset;
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

/* Unicorn's x86 register ids (unicorn/x86.h, as in dev.goemu.unicorn.X86). */
enum { REG_RAX = 35, REG_RCX = 38, REG_RDI = 39, REG_RDX = 40, REG_RIP = 41, REG_RSI = 43, REG_R11 = 109, REG_RFLAGS = 253 };
enum { SYS_GETTIMEOFDAY = 96, SYS_TIME = 201, SYS_CLOCK_GETTIME = 228, SYS_GETCPU = 309 };

/* Copies to guest memory; false (EFAULT) unless the whole range is mapped. Like the Java kernel's AddressSpace,
 * uc_mem_write ignores page protection. */
static int put(struct goemu_syscall *s, void *uc, uint64_t guest, const void *data, uint64_t len) {
    return s->mem_write(uc, guest, data, len) == 0;
}

/* The clocks Linux's vDSO reads: REALTIME, MONOTONIC, MONOTONIC_RAW, REALTIME_COARSE, MONOTONIC_COARSE, BOOTTIME.
 * The others (CPU-time clocks, alarms, TAI, bad ids) go to Java. The kernel reads clockid_t, an int. */
static int vdso_clock(uint64_t id) {
    switch ((int32_t)id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        return 1;
    default:
        return 0;
    }
}

/* Answers syscall nr into *result (a value or -errno), as Linux orders its writes; 0 if Java must answer. */
static int answer(struct goemu_syscall *s, void *uc, uint64_t nr, uint64_t a0, uint64_t a1, int64_t *result) {
    switch (nr) {
    case SYS_CLOCK_GETTIME: {
        struct timespec ts;
        if (!vdso_clock(a0)) return 0;
        read_clock(s, (int32_t)a0, &ts);
        *result = put(s, uc, a1, &ts, sizeof ts) ? 0 : -EFAULT;
        return 1;
    }
    case SYS_GETTIMEOFDAY: {
        static const int32_t utc[2];   /* struct timezone: UTC, as Linux keeps it */
        struct timespec ts;
        read_clock(s, CLOCK_REALTIME, &ts);
        struct timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
        if (a0 != 0 && !put(s, uc, a0, &tv, sizeof tv)) *result = -EFAULT;
        else if (a1 != 0 && !put(s, uc, a1, utc, sizeof utc)) *result = -EFAULT;
        else *result = 0;
        return 1;
    }
    case SYS_TIME: {
        struct timespec ts;
        read_clock(s, CLOCK_REALTIME, &ts);
        int64_t now = ts.tv_sec;
        *result = a0 != 0 && !put(s, uc, a0, &now, sizeof now) ? -EFAULT : now;
        return 1;
    }
    case SYS_GETCPU: {
        static const uint32_t zero;    /* CPU 0 of node 0: every guest thread runs on goemu's one engine thread */
        int ok = a0 == 0 || put(s, uc, a0, &zero, sizeof zero);
        ok &= a1 == 0 || put(s, uc, a1, &zero, sizeof zero);
        *result = ok ? 0 : -EFAULT;
        return 1;
    }
    default:
        return 0;
    }
}

void goemu_syscall_hook(void *uc, void *user_data) {
    struct goemu_syscall *s = user_data;
    uint64_t nr, a0, a1, rip, flags;
    int64_t result;
    if (!s->enabled) {
        s->java_hook(uc, user_data);
        return;
    }
    s->reg_read(uc, REG_RAX, &nr);
    s->reg_read(uc, REG_RDI, &a0);
    s->reg_read(uc, REG_RSI, &a1);
    if (!answer(s, uc, nr, a0, a1, &result)) {
        s->java_hook(uc, user_data);
        return;
    }
    /* As Emulator.onSyscall: RIP is at the 0f 05; SYSCALL leaves the return address in RCX, the flags in R11. */
    s->reg_read(uc, REG_RIP, &rip);
    s->reg_read(uc, REG_RFLAGS, &flags);
    rip += 2;
    s->reg_write(uc, REG_RAX, &result);
    s->reg_write(uc, REG_RCX, &rip);
    s->reg_write(uc, REG_R11, &flags);
}

/* UC_HOOK_INSN for RDTSC, deterministic mode only: a 1 GHz TSC on the virtual monotonic clock. Returns 1: the
 * instruction is done. */
int goemu_rdtsc_hook(void *uc, void *user_data) {
    struct goemu_syscall *s = user_data;
    uint64_t tsc = (uint64_t)virtual_monotonic(s), lo = (uint32_t)tsc, hi = tsc >> 32;
    s->reg_write(uc, REG_RAX, &lo);
    s->reg_write(uc, REG_RDX, &hi);
    return 1;
}

/* RDTSCP: the same, and processor 0 as TSC_AUX in RCX. */
int goemu_rdtscp_hook(void *uc, void *user_data) {
    struct goemu_syscall *s = user_data;
    uint64_t zero = 0;
    s->reg_write(uc, REG_RCX, &zero);
    return goemu_rdtsc_hook(uc, user_data);
}
