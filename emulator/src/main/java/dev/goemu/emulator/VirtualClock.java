package dev.goemu.emulator;

import dev.goemu.syscalls.Clock;
import dev.goemu.syscalls.Determinism;
import dev.goemu.unicorn.FastSyscalls;

/**
 * Deterministic mode's clock: CLOCK_MONOTONIC is {@link Determinism#MONOTONIC_START_NANOS} plus the translated
 * blocks executed times {@link #NS_PER_BLOCK}, plus the time skipped while every thread waited for a deadline;
 * CLOCK_REALTIME is the epoch plus the same. The native hooks read the same fields (the clock syscalls and RDTSC
 * answered in C agree with the Java kernel's), so no answer depends on the host.
 */
final class VirtualClock extends Clock {
    /**
     * Virtual nanoseconds per translated block. Measured on this project's CPU-bound benchmarks natively: a Go
     * translated block (up to a branch) averages 5-8 instructions, which a 3 GHz core retires in about 2 ns; so
     * CPU-bound guests see about their native speed, and the timing assumptions of Go code and tests keep their
     * meaning (see docs/ARCHITECTURE.md, "Deterministic runs").
     */
    static final long NS_PER_BLOCK = 2;

    private final FastSyscalls state;
    private final long realtimeOffset;

    VirtualClock(FastSyscalls state, long epochNanos) {
        this.state = state;
        this.realtimeOffset = epochNanos - Determinism.MONOTONIC_START_NANOS;
        state.setMonotonicBase(Determinism.MONOTONIC_START_NANOS);
        state.setRealtimeOffset(realtimeOffset);
    }

    @Override
    public long monotonic() {
        return state.monotonicBase() + state.blocks() * NS_PER_BLOCK;
    }

    @Override
    public long realtime() {
        return monotonic() + realtimeOffset;
    }

    @Override
    public boolean isVirtual() {
        return true;
    }

    @Override
    public void advanceTo(long monotonic) {
        long now = monotonic();
        if (monotonic > now) state.setMonotonicBase(state.monotonicBase() + (monotonic - now));
    }
}
