package dev.goemu.syscalls;

/** What a blocked task waits for; whichever comes first wakes it. Each task reuses its own, so blocking allocates nothing. */
final class Wait {
    static final long NO_DEADLINE = Long.MAX_VALUE;

    /** Deadline on the kernel's {@link Clock} (the guest's CLOCK_MONOTONIC), and the result then. */
    long deadline = NO_DEADLINE;
    long timeoutResult;
    /** Futex word address and FUTEX_WAIT_BITSET mask, or futexAddr 0. */
    long futexAddr;
    int futexBitset;
    /** Host fd readiness (poll events); when ready the blocked syscall is re-run. */
    int hostFd = -1;
    short events;
    /** A host fd made for this wait only (poll's epoll set), closed by the scheduler when the wait ends; or -1. */
    int ownedFd = -1;
    /** When the deadline ends the wait, the result instead of timeoutResult (select clears its fd sets then); or null. */
    java.util.function.LongSupplier onTimeout;

    boolean isFutex() {
        return futexBitset != 0; // FUTEX_WAIT's bitset is never 0
    }

    /** The task's wait, reset to a deadline only; the task is running, so its previous wait is over. */
    static Wait until(Task t, long deadline, long timeoutResult) {
        Wait w = t.waitSlot;
        w.deadline = deadline;
        w.timeoutResult = timeoutResult;
        w.futexAddr = 0;
        w.futexBitset = 0;
        w.hostFd = -1;
        w.events = 0;
        w.ownedFd = -1;
        w.onTimeout = null;
        return w;
    }

    static Wait futex(Task t, long addr, int bitset, long deadline) {
        Wait w = until(t, deadline, -Errno.ETIMEDOUT);
        w.futexAddr = addr;
        w.futexBitset = bitset;
        return w;
    }

    static Wait fd(Task t, int hostFd, short events, long deadline, long timeoutResult) {
        Wait w = until(t, deadline, timeoutResult);
        w.hostFd = hostFd;
        w.events = events;
        return w;
    }
}
