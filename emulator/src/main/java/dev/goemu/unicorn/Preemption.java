package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * Asks a running engine to stop at the next basic block, through the native block hook of goemu_hooks.c (a few ns
 * per block, against ~150 ns for a Java hook). The stop happens inside a hook on the engine's thread, hence is
 * synchronous and safe, unlike uc_emu_stop from another thread. Get one with {@link Unicorn#installPreemption()}.
 *
 * <p>Native layout (struct goemu_preempt): {@code int32 requested} at 0, {@code int32 fired} at 4,
 * {@code void *uc_emu_stop} at 8.
 */
public final class Preemption {
    static final long STATE_SIZE = 16;
    static final long REQUESTED_OFFSET = 0;
    static final long FIRED_OFFSET = 4;
    static final long STOP_FN_OFFSET = 8;
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final MemorySegment state;
    private final Hook hook;

    Preemption(MemorySegment state, Hook hook) {
        this.state = state;
        this.hook = hook;
    }

    /**
     * Thread-safe, from any thread: the engine stops at the start of its next basic block (or of the first block
     * of the next {@link Unicorn#start} if it is not running). Ignored once the engine is closed.
     */
    public void request() {
        try {
            INT.setVolatile(state, REQUESTED_OFFSET, 1);
        } catch (IllegalStateException closed) {
            // the engine's arena is gone: nothing to preempt
        }
    }

    /** Withdraws a request that has not fired yet (engine thread, or any thread). */
    public void cancel() {
        try {
            INT.setVolatile(state, REQUESTED_OFFSET, 0);
        } catch (IllegalStateException closed) {
            // engine closed
        }
    }

    /** Whether a request is waiting for the next block. */
    public boolean pending() {
        return (int) INT.getVolatile(state, REQUESTED_OFFSET) != 0;
    }

    /**
     * On the engine's thread after {@link Unicorn#start} returned: true if the stop was caused by a request (the
     * hook fired since the last consume), and clears that.
     */
    public boolean consume() {
        if ((int) INT.getVolatile(state, FIRED_OFFSET) == 0) return false;
        INT.setVolatile(state, FIRED_OFFSET, 0);
        return true;
    }

    /** The underlying block hook (closing it disables preemption for good). */
    Hook hook() {
        return hook;
    }
}
