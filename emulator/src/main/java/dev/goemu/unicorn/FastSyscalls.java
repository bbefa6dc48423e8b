package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The native SYSCALL hook of goemu_syscall.c, installed by {@link Unicorn#onSyscallWithFastPath}: while enabled, it
 * answers clock_gettime (REALTIME, MONOTONIC and their COARSE/RAW variants, BOOTTIME), gettimeofday, time and getcpu
 * in C from the host's clocks, as the Java kernel would; every other syscall, and every syscall while disabled, goes
 * to the Java handler. Disable it when each syscall must reach Java (tracing, or a clock that is not the host's).
 *
 * <p>Native layout (struct goemu_syscall): pointers {@code java_hook} at 0, {@code uc_reg_read} at 8,
 * {@code uc_reg_write} at 16, {@code uc_mem_write} at 24, then {@code int32 enabled} at 32.
 */
public final class FastSyscalls {
    static final long STATE_SIZE = 40;
    static final long JAVA_HOOK_OFFSET = 0;
    static final long REG_READ_OFFSET = 8;
    static final long REG_WRITE_OFFSET = 16;
    static final long MEM_WRITE_OFFSET = 24;
    static final long ENABLED_OFFSET = 32;
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final MemorySegment state;

    FastSyscalls(MemorySegment state) {
        this.state = state;
    }

    /** Takes effect at the next syscall; from any thread while the engine is open. */
    public void setEnabled(boolean enabled) {
        INT.setVolatile(state, ENABLED_OFFSET, enabled ? 1 : 0);
    }
}
