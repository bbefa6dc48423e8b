package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The native SYSCALL hook of goemu_syscall.c, installed by {@link Unicorn#onSyscallWithFastPath}: while enabled, it
 * answers clock_gettime (REALTIME, MONOTONIC and their COARSE/RAW variants, BOOTTIME), gettimeofday, time and getcpu
 * in C from the host's clocks, as the Java kernel would; every other syscall, and every syscall while disabled, goes
 * to the Java handler. Disable it when each syscall must reach Java (tracing, or a clock that is not the host's).
 *
 * <p>In deterministic mode ({@link Unicorn#onSyscallWithFastPath(Runnable, long)}) the engine's translated blocks
 * count themselves down in its {@code goemu_blocks_left} (goemu's engine patch) and the engine stops when it reaches
 * zero: {@link #setBudget the budget} is where the slice ends. The clocks (here, for RDTSC, and in Java) are virtual:
 * CLOCK_MONOTONIC is {@code monotonic_base + blocks * ns_per_block}, where blocks is {@code slice_end} minus the
 * blocks left.
 *
 * <p>Native layout (struct goemu_syscall): pointers {@code java_hook} at 0, {@code uc_reg_read} at 8,
 * {@code uc_reg_write} at 16, {@code uc_mem_write} at 24, then {@code int32 enabled} at 32, {@code int32
 * virtual_time} at 36, pointer {@code blocks_left} (the engine's counter) at 40, then 64-bit {@code slice_end} at
 * 48, {@code monotonic_base} at 56, {@code realtime_offset} at 64, {@code ns_per_block} at 72.
 */
public final class FastSyscalls {
    static final long STATE_SIZE = 80;
    static final long JAVA_HOOK_OFFSET = 0;
    static final long REG_READ_OFFSET = 8;
    static final long REG_WRITE_OFFSET = 16;
    static final long MEM_WRITE_OFFSET = 24;
    static final long ENABLED_OFFSET = 32;
    static final long VIRTUAL_TIME_OFFSET = 36;
    static final long BLOCKS_LEFT_OFFSET = 40;
    private static final long SLICE_END = 48, MONOTONIC_BASE = 56, REALTIME_OFFSET = 64;
    static final long NS_PER_BLOCK_OFFSET = 72;
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final MemorySegment state;
    private MemorySegment blocksLeft; // the engine's counter, once deterministic mode has set it

    FastSyscalls(MemorySegment state) {
        this.state = state;
    }

    /** Takes effect at the next syscall; from any thread while the engine is open. */
    public void setEnabled(boolean enabled) {
        INT.setVolatile(state, ENABLED_OFFSET, enabled ? 1 : 0);
    }

    // Deterministic mode: only the engine's own thread touches these, between runs or from its hooks.

    /** Translated blocks executed so far. */
    public long blocks() {
        return state.get(JAVA_LONG, SLICE_END) - blocksLeft().get(JAVA_LONG, 0);
    }

    /** The engine stops at the start of the first block after {@code blocks()} reaches {@code budget}. */
    public void setBudget(long budget) {
        long blocks = blocks(), left = Math.max(0, budget - blocks);
        state.set(JAVA_LONG, SLICE_END, blocks + left);
        blocksLeft().set(JAVA_LONG, 0, left);
    }

    private MemorySegment blocksLeft() {
        if (blocksLeft == null) blocksLeft = state.get(ADDRESS, BLOCKS_LEFT_OFFSET).reinterpret(8);
        return blocksLeft;
    }

    public long nsPerBlock() {
        return state.get(JAVA_LONG, NS_PER_BLOCK_OFFSET);
    }

    public long monotonicBase() {
        return state.get(JAVA_LONG, MONOTONIC_BASE);
    }

    /** Virtual CLOCK_MONOTONIC at zero blocks; raised when the clock jumps to a deadline. */
    public void setMonotonicBase(long nanos) {
        state.set(JAVA_LONG, MONOTONIC_BASE, nanos);
    }

    /** Virtual CLOCK_REALTIME minus CLOCK_MONOTONIC. */
    public void setRealtimeOffset(long nanos) {
        state.set(JAVA_LONG, REALTIME_OFFSET, nanos);
    }
}
