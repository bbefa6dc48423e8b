package dev.goemu.hooks;

/**
 * A guest under the control of a tool (debugger, tracers): breakpoints, block hooks and periodic snapshots, and
 * running it until something asks to pause. Hooks exist only while registered, so a plain run pays for none.
 * Handlers run on the engine thread with the guest stopped before the instruction at {@code pc}.
 */
public interface Debuggee extends Guest {
    /** Called when a thread is about to execute a hooked instruction; returning true pauses the guest there. */
    @FunctionalInterface
    interface Handler {
        boolean hit(long pc);
    }

    /** A registered hook or timer; close() removes it. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** Why {@link #resume()} or {@link #stepInstruction()} returned. */
    sealed interface Stop {
        /** Paused before the instruction at {@code pc} of thread {@code tid}. */
        record Paused(long pc, int tid) implements Stop {}

        record Exited(int status) implements Stop {}

        /** A fault the guest did not handle ended it, as Linux would with a signal. */
        record Crashed(String message, int status) implements Stop {}
    }

    /** Runs {@code handler} before each execution of the instruction at {@code pc}. */
    Registration breakpoint(long pc, Handler handler);

    /** Runs {@code handler} at the start of every basic block in [begin, end) (slow: for tracing only). */
    Registration blocks(long begin, long end, Handler handler);

    /** Runs {@code action} about every {@code periodNanos} of guest time, between time slices, all threads stopped. */
    Registration every(long periodNanos, Runnable action);

    /** Runs until a handler pauses the guest, or it ends. A breakpoint at the current pc is stepped over first. */
    Stop resume();

    /** Executes exactly one instruction (of whichever thread runs next, normally the current one). */
    Stop stepInstruction();
}
