package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * A fixed list of 8-byte registers ({@link Unicorn#batch}) moved with one uc_reg_read_batch or uc_reg_write_batch
 * call instead of one call per register. The values sit in native memory between the calls.
 */
public final class RegisterBatch {
    private final Unicorn owner;
    private final int count;
    private final long ids, pointers;
    private final MemorySegment values;

    RegisterBatch(Unicorn owner, int count, long ids, long pointers, MemorySegment values) {
        this.owner = owner;
        this.count = count;
        this.ids = ids;
        this.pointers = pointers;
        this.values = values;
    }

    /** Reads all the registers from the CPU; {@link #get} then returns them. */
    public void read() {
        owner.batchCall(Native.UC_REG_READ_BATCH, ids, pointers, count);
    }

    /** Writes all the registers to the CPU, as {@link #set} left them. */
    public void write() {
        owner.batchCall(Native.UC_REG_WRITE_BATCH, ids, pointers, count);
    }

    /** The value of the batch's register {@code i}, as last read or set. */
    public long get(int i) {
        owner.checkOpen();
        return values.get(JAVA_LONG, 8L * i);
    }

    public void set(int i, long value) {
        owner.checkOpen();
        values.set(JAVA_LONG, 8L * i, value);
    }
}
