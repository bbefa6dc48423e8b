package dev.goemu.hooks;

import dev.goemu.syscalls.GuestFault;
import dev.goemu.syscalls.Registers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A guest process stopped between two instructions, as the Go-aware tools read it: the current thread's registers,
 * every thread's position, and memory. Reads of unmapped memory throw {@link GuestFault}.
 */
public interface Guest {
    /** A guest thread: its kernel state and where it is. {@code g} is R14, the current goroutine in Go's ABI. */
    record ThreadView(int tid, String name, String state, long pc, long sp, long fsBase, long g, boolean current) {}

    int currentTid();

    /** The current thread's registers. */
    Registers registers();

    /** One general register of the current thread ({@link Registers} index), without reading all of them. */
    default long register(int index) {
        return registers().get(index);
    }

    long fsBase();

    /** The current thread's g: the runtime keeps it in the TLS slot at fs:-8 (R14 only in Go code). */
    default long currentG() {
        return readLong(fsBase() - 8);
    }

    /** All live threads, in thread-id order. */
    List<ThreadView> threads();

    byte[] read(long address, int length);

    /** The guest's CLOCK_MONOTONIC, in nanoseconds. */
    long monotonicNanos();

    default long readLong(long address) {
        return ByteBuffer.wrap(read(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    default int readInt(long address) {
        return ByteBuffer.wrap(read(address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** A little-endian unsigned integer of 1, 2, 4 or 8 bytes (how struct fields of any integer size are read). */
    default long readUnsigned(long address, int size) {
        byte[] b = read(address, size);
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (b[i] & 0xff);
        return v;
    }

    default String readCString(long address, int max) {
        byte[] b = read(address, max);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
