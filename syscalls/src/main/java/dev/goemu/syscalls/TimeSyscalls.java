package dev.goemu.syscalls;

import java.lang.foreign.Arena;

/**
 * Clocks read the host's (the guest and goemu share CLOCK_MONOTONIC, which is also System.nanoTime's clock);
 * sleeps block only the calling task until a deadline on that clock.
 */
final class TimeSyscalls {
    private static final int CLOCK_REALTIME = 0, TIMER_ABSTIME = 1;

    private final Kernel k;

    TimeSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        // clock_gettime, clock_getres: the host's clocks are the guest's; the timespec is 16 bytes.
        t.add(Sys.CLOCK_GETTIME, "dp", k.passthrough.struct(16));
        t.add(Sys.CLOCK_GETRES, "dp", k.passthrough.struct(16));
        t.add(Sys.GETTIMEOFDAY, "xx", this::gettimeofday);
        t.add(Sys.TIME, "x", (task, a) -> {
            long now = System.currentTimeMillis() / 1000;
            if (a[0] != 0) k.memory.writeLong(a[0], now);
            return now;
        });
        t.add(Sys.NANOSLEEP, "xx", (task, a) -> sleep(task, CLOCK_REALTIME, 0, a[0]));
        t.add(Sys.CLOCK_NANOSLEEP, "ddxx", (task, a) -> sleep(task, (int) a[0], (int) a[1], a[2]));
    }

    /** gettimeofday(tv, tz): the timeval (16 bytes) from the host; the obsolete timezone is UTC, as Linux keeps it. */
    private long gettimeofday(Task task, long[] a) {
        long r = k.passthrough.call(Sys.GETTIMEOFDAY, "px", 16, new long[] {a[0], 0, 0, 0, 0, 0});
        if (r == 0 && a[1] != 0) k.memory.writeLong(a[1], 0); // struct timezone: two zero ints
        return r;
    }

    private long sleep(Task task, int clock, int flags, long req) {
        long ns = readTimespec(k.memory, req);
        if (ns < 0) return -Errno.EINVAL;
        long deadline;
        if ((flags & TIMER_ABSTIME) == 0) deadline = Wait.after(ns);
        else deadline = clock == CLOCK_REALTIME ? realtimeToDeadline(ns) : ns;
        if (deadline <= System.nanoTime()) return 0;
        return k.block(task, Wait.until(task, deadline, 0));
    }

    /** A struct timespec as nanoseconds, or -1 if invalid. */
    static long readTimespec(AddressSpace mem, long addr) {
        long sec = mem.readLong(addr), nsec = mem.readLong(addr + 8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) return -1;
        return sec > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : sec * 1_000_000_000L + nsec;
    }

    /** Converts an absolute CLOCK_REALTIME time to a System.nanoTime deadline. */
    static long realtimeToDeadline(long realtimeNs) {
        long nowReal = hostClock(CLOCK_REALTIME), nowMono = System.nanoTime();
        long delta = realtimeNs - nowReal;
        return delta > Wait.NO_DEADLINE - nowMono ? Wait.NO_DEADLINE : nowMono + delta;
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
