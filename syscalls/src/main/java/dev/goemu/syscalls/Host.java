package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Raw Linux system calls of the host process, through libc's syscall(2). The guest runs on the same
 * architecture and OS, so most file, pipe, epoll and socket calls are passed through with guest fds and
 * guest pointers translated; results keep the kernel's -errno convention.
 */
public final class Host {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    public static final int SYS_READ = 0, SYS_WRITE = 1, SYS_CLOSE = 3, SYS_FSTAT = 5, SYS_POLL = 7, SYS_MMAP = 9,
            SYS_MUNMAP = 11, SYS_PREAD = 17, SYS_MSYNC = 26, SYS_MINCORE = 27, SYS_MADVISE = 28, SYS_FCNTL = 72;

    private Host() {}

    /** syscall(nr, args...) on the host; returns the result or -errno. */
    public static long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        MemorySegment state = STATE.get();
        try {
            long r = (long) SYSCALL.invokeExact(state, nr, a0, a1, a2, a3, a4, a5);
            return r == -1 ? -(int) ERRNO.get(state, 0L) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("host syscall " + nr, t);
        }
    }

    public static long syscall(long nr, long a0, long a1, long a2) {
        return syscall(nr, a0, a1, a2, 0, 0, 0);
    }

    /** Host memory for guest pages: lazily committed, so large PROT_NONE reservations cost nothing. */
    public static MemorySegment allocatePages(long size) {
        final int protRw = 3, mapPrivateAnonNoreserve = 0x02 | 0x20 | 0x4000;
        long addr = syscall(SYS_MMAP, 0, size, protRw, mapPrivateAnonNoreserve, -1, 0);
        if (addr < 0 && addr > -4096) throw new OutOfMemoryError("host mmap of " + size + " bytes: " + Errno.name((int) -addr));
        return MemorySegment.ofAddress(addr).reinterpret(size);
    }

    public static void freePages(long hostAddr, long size) {
        syscall(SYS_MUNMAP, hostAddr, size, 0);
    }

    /** Gives anonymous private pages back to the host; they read as zero afterwards, as after a fresh mmap. */
    public static void zeroPages(long hostAddr, long size) {
        final int madvDontneed = 4;
        syscall(SYS_MADVISE, hostAddr, size, madvDontneed);
    }

    /** poll(2) on host fds: {fd, events} pairs in, revents out; timeout in ms (-1 waits forever). */
    public static int poll(int[] fds, short[] events, short[] revents, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfds = arena.allocate(8L * fds.length, 8);
            for (int i = 0; i < fds.length; i++) {
                pfds.set(JAVA_INT, 8L * i, fds[i]);
                pfds.set(JAVA_SHORT, 8L * i + 4, events[i]);
            }
            long r = syscall(SYS_POLL, pfds.address(), fds.length, timeoutMs);
            for (int i = 0; i < fds.length; i++) {
                revents[i] = pfds.get(JAVA_SHORT, 8L * i + 6);
            }
            return (int) r;
        }
    }
}
