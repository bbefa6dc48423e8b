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

    /**
     * Host memory for guest pages: lazily committed, so large PROT_NONE reservations cost nothing; null if the host
     * has no address space left (the guest's mmap answers ENOMEM, as Go's runtime expects).
     */
    public static MemorySegment allocatePages(long size) {
        final int protRw = 3, mapPrivateAnonNoreserve = 0x02 | 0x20 | 0x4000;
        long addr = syscall(Sys.MMAP.nr, 0, size, protRw, mapPrivateAnonNoreserve, -1, 0);
        return addr < 0 && addr > -4096 ? null : MemorySegment.ofAddress(addr).reinterpret(size);
    }

    /**
     * Whether the host would commit {@code size} bytes of private writable memory now: goemu maps guest memory
     * MAP_NORESERVE, so it asks the host's overcommit policy with a throw-away mapping of that size, which a
     * native mmap without MAP_NORESERVE would meet (Go's runtime then says "fatal error: out of memory").
     */
    public static boolean canCommit(long size) {
        final int protRw = 3, mapPrivateAnon = 0x02 | 0x20;
        long addr = syscall(Sys.MMAP.nr, 0, size, protRw, mapPrivateAnon, -1, 0);
        if (addr < 0 && addr > -4096) return false;
        freePages(addr, size);
        return true;
    }

    public static void freePages(long hostAddr, long size) {
        syscall(Sys.MUNMAP.nr, hostAddr, size, 0);
    }

    /** Gives anonymous private pages back to the host; they read as zero afterwards, as after a fresh mmap. */
    public static void zeroPages(long hostAddr, long size) {
        final int madvDontneed = 4;
        syscall(Sys.MADVISE.nr, hostAddr, size, madvDontneed);
    }

    /** poll(2) on host fds: {fd, events} pairs in, revents out; timeout in ms (-1 waits forever). */
    public static int poll(int[] fds, short[] events, short[] revents, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfds = arena.allocate(8L * fds.length, 8);
            for (int i = 0; i < fds.length; i++) {
                pfds.set(JAVA_INT, 8L * i, fds[i]);
                pfds.set(JAVA_SHORT, 8L * i + 4, events[i]);
            }
            long r = syscall(Sys.POLL.nr, pfds.address(), fds.length, timeoutMs);
            for (int i = 0; i < fds.length; i++) {
                revents[i] = pfds.get(JAVA_SHORT, 8L * i + 6);
            }
            return (int) r;
        }
    }
}
