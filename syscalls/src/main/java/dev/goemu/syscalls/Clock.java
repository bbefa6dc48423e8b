package dev.goemu.syscalls;

/**
 * The guest's time, in nanoseconds: CLOCK_MONOTONIC (also the clock of the kernel's deadlines) and
 * CLOCK_REALTIME. Normally the host's; in deterministic mode a virtual clock that advances with executed guest
 * work and jumps to the next deadline when every thread waits for one (the CPU layer's {@code VirtualClock}).
 */
public abstract class Clock {
    /** The host's clocks: CLOCK_MONOTONIC is System.nanoTime's. */
    public static final Clock HOST = new Clock() {
        @Override public long monotonic() { return System.nanoTime(); }
        @Override public long realtime() { return TimeSyscalls.hostClock(TimeSyscalls.CLOCK_REALTIME); }
    };

    public abstract long monotonic();

    public abstract long realtime();

    /** Whether this is a virtual clock, which the scheduler moves forward itself when the guest is idle. */
    public boolean isVirtual() {
        return false;
    }

    /** Virtual clocks only: no thread can run before {@code monotonic}, so time passes at once up to it. */
    public void advanceTo(long monotonic) {
        throw new UnsupportedOperationException("the host's clock does not jump");
    }

    /** Deadline for a relative timeout in nanoseconds, saturating. */
    final long after(long nanos) {
        long now = monotonic();
        return nanos > Wait.NO_DEADLINE - now ? Wait.NO_DEADLINE : now + nanos;
    }

    /** An absolute CLOCK_REALTIME time as a deadline on the monotonic clock, saturating. */
    final long realtimeToDeadline(long realtimeNs) {
        long nowMono = monotonic(), delta = realtimeNs - realtime();
        return delta > Wait.NO_DEADLINE - nowMono ? Wait.NO_DEADLINE : nowMono + delta;
    }
}
