package dev.goemu.syscalls;

/** What a blocked task waits for; whichever comes first wakes it. */
final class Wait {
    static final long NO_DEADLINE = Long.MAX_VALUE;

    /** System.nanoTime() deadline (the same clock as the guest's CLOCK_MONOTONIC), and the result then. */
    long deadline = NO_DEADLINE;
    long timeoutResult;
    /** Futex word address and FUTEX_WAIT_BITSET mask, or futexAddr 0. */
    long futexAddr;
    int futexBitset;
    /** Host fd readiness (poll events); when ready the blocked syscall is re-run. */
    int hostFd = -1;
    short events;

    static Wait until(long deadline, long timeoutResult) {
        Wait w = new Wait();
        w.deadline = deadline;
        w.timeoutResult = timeoutResult;
        return w;
    }

    static Wait futex(long addr, int bitset, long deadline) {
        Wait w = until(deadline, -Errno.ETIMEDOUT);
        w.futexAddr = addr;
        w.futexBitset = bitset;
        return w;
    }

    static Wait fd(int hostFd, short events, long deadline, long timeoutResult) {
        Wait w = until(deadline, timeoutResult);
        w.hostFd = hostFd;
        w.events = events;
        return w;
    }

    /** Deadline for a relative timeout in nanoseconds, saturating. */
    static long after(long nanos) {
        long now = System.nanoTime();
        return nanos > NO_DEADLINE - now ? NO_DEADLINE : now + nanos;
    }
}
