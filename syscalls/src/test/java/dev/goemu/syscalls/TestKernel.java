package dev.goemu.syscalls;

import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** A kernel with no CPU: memory mappings are recorded, syscalls are called directly as the CPU layer would. */
final class TestKernel {
    static final long SCRATCH = 0x10000000L;

    final List<String> mapperCalls = new ArrayList<>();
    final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    final AddressSpace memory = new AddressSpace(new AddressSpace.Mapper() {
        @Override public void map(long guest, long size, int perms, MemorySegment host) { mapperCalls.add(String.format("map %x %x %d", guest, size, perms)); }
        @Override public void unmap(long guest, long size) { mapperCalls.add(String.format("unmap %x %x", guest, size)); }
        @Override public void protect(long guest, long size, int perms) { mapperCalls.add(String.format("protect %x %x %d", guest, size, perms)); }
    });
    long fsBase;
    int stops;
    /** The "CPU" registers of whichever task the test is running. */
    Registers cpu = new Registers();
    final Kernel kernel;

    TestKernel() {
        this(null, Clock.HOST);
    }

    /** A kernel in deterministic mode ({@code det} not null) or not, on {@code clock}. */
    TestKernel(Determinism det, Clock clock) {
        this(det, clock, null);
    }

    /** The same, tracing its syscalls to {@code strace} unless null. */
    TestKernel(Determinism det, Clock clock, PrintStream strace) {
        kernel = new Kernel(new Kernel.Config("/bin/guest", 3, strace, new PrintStream(diagnostics, true), null, det), memory,
            new Machine() {
                @Override public long fsBase() { return fsBase; }
                @Override public void setFsBase(long value) { fsBase = value; }
                @Override public long gsBase() { return 0; }
                @Override public void setGsBase(long value) {}
                @Override public void stopAfterSyscall() { stops++; }
                @Override public Registers registers() { return cpu.copy(); }
                @Override public void setRegisters(Registers registers) { cpu = registers.copy(); }
                @Override public Clock clock() { return clock; }
            });
        memory.mapFixed(SCRATCH, 1 << 20, 3);
    }

    long call(Task t, int nr, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 6);
        return kernel.syscall(t, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    static long result(Task t) {
        long[] out = new long[1];
        if (!t.takeResult(out)) throw new AssertionError(t + " has no result");
        return out[0];
    }

    void writeTimespec(long addr, long nanos) {
        memory.writeLong(addr, nanos / 1_000_000_000L);
        memory.writeLong(addr + 8, nanos % 1_000_000_000L);
    }
}
