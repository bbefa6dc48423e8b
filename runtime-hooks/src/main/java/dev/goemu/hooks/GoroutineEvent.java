package dev.goemu.hooks;

import java.io.IOException;

/**
 * A goroutine lifecycle event seen by the {@link GoroutineTracer}. {@code timeNanos} is the guest's CLOCK_MONOTONIC
 * (what the runtime's {@code nanotime()} returns); {@code m} and {@code p} are the ids of the M that made the change
 * and of the P it held, -1 for none.
 */
public sealed interface GoroutineEvent {
    long timeNanos();

    long goid();

    long m();

    long p();

    /**
     * {@code newproc} made goroutine {@code goid}, which will run {@code entry} (its {@code g.startpc}: for a
     * {@code go f(x)} with arguments that is the compiler's wrapper: {@code main.main.gowrap1} in recent releases,
     * {@code main.main.func1} in Go 1.21 and older).
     * {@code parentGoid} is the creator's goid, 0 for the runtime's start-up code on g0; {@code status} is where it
     * starts, runnable (or waiting, for the few the runtime creates parked, then with {@code waitReason}).
     */
    record Created(long timeNanos, long goid, long parentGoid, String entry, int status, String waitReason, long m, long p)
            implements GoroutineEvent {}

    /** Goroutine {@code goid} went from status {@code from} to {@code to}; {@code waitReason} is set when it waits. */
    record StatusChanged(long timeNanos, long goid, int from, int to, String waitReason, long m, long p)
            implements GoroutineEvent {}

    /** Where events go; written on the engine thread, in time order. */
    interface Sink extends AutoCloseable {
        void accept(GoroutineEvent event) throws IOException;

        /** The guest ended (or tracing stopped) at {@code timeNanos}: close what is open and finish the output. */
        void finish(long timeNanos) throws IOException;

        @Override
        void close() throws IOException;
    }
}
