package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Raw Linux system calls of the host process, through a SYSCALL instruction of its own. The guest runs on the same
 * architecture and OS, so most file, pipe, epoll and socket calls are passed through with guest fds and
 * guest pointers translated; results keep the kernel's -errno convention.
 */
public final class Host {
    /**
     * Six 64-bit integers in, one out: the shape of almost every native call goemu makes (its Unicorn binding's
     * too). The JDK generates and loads code for each new shape, which the AOT cache cannot keep; libc's syscall(2)
     * is variadic and reports through errno, and linking that shape cost a hello world 30 ms of start-up.
     */
    private static final FunctionDescriptor CALL = FunctionDescriptor.of(JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /**
     * x86-64 code for {@code long raw_syscall(const long call[7])}: the SYSCALL instruction on {nr, a0..a5}, its
     * result as the kernel returns it (-errno on failure), so no errno needs capturing. Linux's registers: number in
     * RAX, arguments in RDI, RSI, RDX, R10, R8, R9; RCX and R11 are clobbered, which the C ABI allows.
     */
    private static final byte[] RAW_SYSCALL = {
            0x48, (byte) 0x8b, 0x07,             // mov rax, [rdi]
            0x48, (byte) 0x8b, 0x77, 0x10,       // mov rsi, [rdi+16]
            0x48, (byte) 0x8b, 0x57, 0x18,       // mov rdx, [rdi+24]
            0x4c, (byte) 0x8b, 0x57, 0x20,       // mov r10, [rdi+32]
            0x4c, (byte) 0x8b, 0x47, 0x28,       // mov r8, [rdi+40]
            0x4c, (byte) 0x8b, 0x4f, 0x30,       // mov r9, [rdi+48]
            0x48, (byte) 0x8b, 0x7f, 0x08,       // mov rdi, [rdi+8]
            0x0f, 0x05,                          // syscall
            (byte) 0xc3};                        // ret
    private static final MethodHandle SYSCALL = rawSyscall();
    /** Each thread's {nr, a0..a5} block. */
    private static final ThreadLocal<MemorySegment> CALL_BLOCK =
            ThreadLocal.withInitial(() -> Arena.global().allocate(7 * 8, 8));

    private Host() {}

    /** RAW_SYSCALL in a page of its own, made executable once written. */
    private static MethodHandle rawSyscall() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        final int protRw = 3, protRx = 5, mapPrivateAnon = 0x02 | 0x20, page = 4096;
        try {
            long code = (long) linker.downcallHandle(libc.find("mmap").orElseThrow(), CALL)
                    .invokeExact(0L, (long) page, (long) protRw, (long) mapPrivateAnon, -1L, 0L);
            if (code == -1) throw new IllegalStateException("mmap of one page for goemu's host syscall stub failed");
            MemorySegment.copy(RAW_SYSCALL, 0, MemorySegment.ofAddress(code).reinterpret(page), JAVA_BYTE, 0,
                    RAW_SYSCALL.length);
            long r = (long) linker.downcallHandle(libc.find("mprotect").orElseThrow(), CALL)
                    .invokeExact(code, (long) page, (long) protRx, 0L, 0L, 0L);
            if ((int) r != 0) throw new IllegalStateException("mprotect of goemu's host syscall stub failed");
            return linker.downcallHandle(MemorySegment.ofAddress(code), CALL);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("goemu's host syscall stub", t);
        }
    }

    /** syscall(nr, args...) on the host; returns the result or -errno. */
    public static long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        MemorySegment call = CALL_BLOCK.get();
        call.set(JAVA_LONG, 0, nr);
        call.set(JAVA_LONG, 8, a0);
        call.set(JAVA_LONG, 16, a1);
        call.set(JAVA_LONG, 24, a2);
        call.set(JAVA_LONG, 32, a3);
        call.set(JAVA_LONG, 40, a4);
        call.set(JAVA_LONG, 48, a5);
        try {
            return (long) SYSCALL.invokeExact(call.address(), 0L, 0L, 0L, 0L, 0L);
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
