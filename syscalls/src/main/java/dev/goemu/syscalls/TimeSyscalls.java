package dev.goemu.syscalls;

import java.lang.foreign.Arena;

/**
 * Clocks are the kernel's {@link Clock}: the host's (the guest and goemu share CLOCK_MONOTONIC, which is also
 * System.nanoTime's clock), or in deterministic mode a virtual one answered here for every clock id; sleeps block
 * only the calling task until a deadline on that clock.
 */
final class TimeSyscalls {
    static final int CLOCK_REALTIME = 0;
    private static final int TIMER_ABSTIME = 1;
    private static final int CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
            CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
            CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;

    private final Kernel k;

    TimeSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        // clock_gettime, clock_getres: the host's clocks are the guest's; the timespec is 16 bytes.
        SyscallTable.Handler hostGettime = k.passthrough.struct(16), hostGetres = k.passthrough.struct(16);
        t.add(Sys.CLOCK_GETTIME, "dp", (task, a) -> k.clock.isVirtual() ? virtualGettime((int) a[0], a[1]) : hostGettime.call(task, a));
        t.add(Sys.CLOCK_GETRES, "dp", (task, a) -> k.clock.isVirtual() ? virtualGetres((int) a[0], a[1]) : hostGetres.call(task, a));
        t.add(Sys.GETTIMEOFDAY, "xx", this::gettimeofday);
        t.add(Sys.TIME, "x", (task, a) -> {
            long now = k.clock.isVirtual() ? k.clock.realtime() / 1_000_000_000L : System.currentTimeMillis() / 1000;
            if (a[0] != 0) k.memory.writeLong(a[0], now);
            return now;
        });
        t.add(Sys.NANOSLEEP, "xx", (task, a) -> sleep(task, CLOCK_REALTIME, 0, a[0]));
        t.add(Sys.CLOCK_NANOSLEEP, "ddxx", (task, a) -> sleep(task, (int) a[0], (int) a[1], a[2]));
    }

    /** gettimeofday(tv, tz): the timeval (16 bytes) from the clock; the obsolete timezone is UTC, as Linux keeps it. */
    private long gettimeofday(Task task, long[] a) {
        long r;
        if (k.clock.isVirtual()) {
            long now = k.clock.realtime();
            if (a[0] != 0) {
                k.memory.writeLong(a[0], now / 1_000_000_000L);
                k.memory.writeLong(a[0] + 8, now % 1_000_000_000L / 1000);
            }
            r = 0;
        } else {
            r = k.passthrough.call(Sys.GETTIMEOFDAY, "px", 16, new long[] {a[0], 0, 0, 0, 0, 0});
        }
        if (r == 0 && a[1] != 0) k.memory.writeLong(a[1], 0); // struct timezone: two zero ints
        return r;
    }

    /**
     * A virtual clock's reading: the realtime clocks (TAI without leap seconds), the monotonic ones, and the
     * CPU-time clocks (this process's or thread's, or another's by its clockid), which read the guest work done
     * since the start; -1 for an id Linux refuses.
     */
    private long virtualNow(int clock) {
        return switch (clock) {
            case CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, CLOCK_TAI -> k.clock.realtime();
            case CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM ->
                    k.clock.monotonic();
            case CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID -> k.clock.monotonic() - Determinism.MONOTONIC_START_NANOS;
            default -> clock < 0 ? k.clock.monotonic() - Determinism.MONOTONIC_START_NANOS : -1;
        };
    }

    private long virtualGettime(int clock, long ts) {
        long now = virtualNow(clock);
        if (now < 0) return -Errno.EINVAL;
        writeTimespec(ts, now);
        return 0;
    }

    /** Every virtual clock ticks in nanoseconds. */
    private long virtualGetres(int clock, long ts) {
        if (virtualNow(clock) < 0) return -Errno.EINVAL;
        if (ts != 0) writeTimespec(ts, 1);
        return 0;
    }

    private void writeTimespec(long addr, long nanos) {
        k.memory.writeLong(addr, nanos / 1_000_000_000L);
        k.memory.writeLong(addr + 8, nanos % 1_000_000_000L);
    }

    private long sleep(Task task, int clock, int flags, long req) {
        long ns = readTimespec(k.memory, req);
        if (ns < 0) return -Errno.EINVAL;
        long deadline;
        if ((flags & TIMER_ABSTIME) == 0) deadline = k.clock.after(ns);
        else deadline = clock == CLOCK_REALTIME ? k.clock.realtimeToDeadline(ns) : ns;
        if (deadline <= k.clock.monotonic()) return 0;
        return k.block(task, Wait.until(task, deadline, 0));
    }

    /** A struct timespec as nanoseconds, or -1 if invalid. */
    static long readTimespec(AddressSpace mem, long addr) {
        long sec = mem.readLong(addr), nsec = mem.readLong(addr + 8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) return -1;
        return sec > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : sec * 1_000_000_000L + nsec;
    }

    static long hostClock(int clock) {
        try (Arena arena = Arena.ofConfined()) {
            var ts = arena.allocate(16, 8);
            Host.syscall(Sys.CLOCK_GETTIME.nr, clock, ts.address(), 0);
            return ts.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0) * 1_000_000_000L
                    + ts.get(java.lang.foreign.ValueLayout.JAVA_LONG, 8);
        }
    }
}
