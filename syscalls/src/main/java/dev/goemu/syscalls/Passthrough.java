package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a syscall on the host with the guest's arguments translated, driven by the row's argument letters
 * ({@link SyscallTable.Entry#args}): f guest fd (AT_FDCWD kept), s path string (a relative one against the guest's
 * cwd unless it follows a real dirfd), l string passed as is (a symlink's target), b/B buffer whose length is the
 * next argument, p pointer to a struct of a fixed size; anything else passes as is. The host kernel does the real
 * work (files, directories, sockets), so behaviour and errno values are Linux's own.
 *
 * <p>The host only ever sees guest memory the guest may access: a buffer's length is checked as Linux's access_ok
 * does (EFAULT if it leaves user space), capped at MAX_RW_COUNT as read and write cap it, and cut where the guest's
 * accessible memory ends ({@link AddressSpace#view}), so a huge length gives Linux's short count, never a host
 * write past the guest's pages.
 */
final class Passthrough {
    /** Linux's MAX_RW_COUNT: the most one read or write transfers (INT_MAX rounded down to a page). */
    static final long MAX_RW_COUNT = 0x7ffff000L;

    private final Kernel k;

    Passthrough(Kernel k) {
        this.k = k;
    }

    /** A handler passing its own row's call through. */
    SyscallTable.Handler handler() {
        return handler(0, AddressSpace.WRITE, false);
    }

    /** Passes its row's call through; each 'p' argument points to {@code size} bytes the call fills in. */
    SyscallTable.Handler struct(int size) {
        return handler(size, AddressSpace.WRITE, false);
    }

    /** Passes its row's call through; each 'p' argument points to {@code size} bytes the call only reads. */
    SyscallTable.Handler input(int size) {
        return handler(size, AddressSpace.READ, false);
    }

    /** Passes its row's call through; the result is a new host fd, given to the guest as a new guest fd. */
    SyscallTable.Handler fd() {
        return handler(0, AddressSpace.WRITE, true);
    }

    private SyscallTable.Handler handler(int structSize, int structAccess, boolean returnsFd) {
        return (task, a) -> {
            SyscallTable.Entry row = k.currentEntry();
            long r = call(row.sys(), row.args(), structSize, structAccess, a);
            return returnsFd ? k.fds.install(r) : r;
        };
    }

    /** {@link #call(Sys, String, int, int, long[])} of a call that fills in its structs. */
    long call(Sys sys, String spec, int structSize, long[] a) {
        return call(sys, spec, structSize, AddressSpace.WRITE, a);
    }

    /** Runs sys on the host; 'p' structs are structSize bytes the call reads (READ) or also fills in (WRITE). */
    long call(Sys sys, String spec, int structSize, int structAccess, long[] a) {
        try (Arena arena = Arena.ofConfined()) {
            long[] h = new long[6];
            List<AddressSpace.HostView> views = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                char c = i < spec.length() ? spec.charAt(i) : 'x';
                switch (c) {
                    case 'f' -> {
                        h[i] = k.fds.host((int) a[i]);
                        if (h[i] == -Errno.EBADF) return -Errno.EBADF;
                    }
                    case 's' -> {
                        // Relative to a real dirfd the host resolves it; otherwise against the guest's cwd.
                        boolean atDir = i > 0 && spec.charAt(i - 1) == 'f' && (int) a[i - 1] != -100;
                        h[i] = a[i] == 0 ? 0 : hostPath(arena, a[i], !atDir);
                    }
                    case 'l' -> h[i] = arena.allocateFrom(k.memory.readCString(a[i], 4096)).address();
                    case 'b', 'B' -> {
                        if (!AddressSpace.accessOk(a[i], a[i + 1])) return -Errno.EFAULT;
                        int access = c == 'b' ? AddressSpace.READ : AddressSpace.WRITE;
                        AddressSpace.HostView v = k.memory.view(a[i], Math.min(a[i + 1], MAX_RW_COUNT), access, arena);
                        views.add(v);
                        h[i] = v.address();
                        h[++i] = v.len();
                    }
                    case 'p' -> {
                        AddressSpace.HostView v = k.memory.struct(a[i], structSize, structAccess, arena);
                        views.add(v);
                        h[i] = v.address();
                    }
                    default -> h[i] = a[i];
                }
            }
            long r = Host.syscall(sys.nr, h[0], h[1], h[2], h[3], h[4], h[5]);
            for (AddressSpace.HostView v : views) v.copyBack();
            return r;
        }
    }

    /**
     * A guest path as a host C string, made absolute against the guest's cwd if {@code fromCwd}; a path naming the
     * guest's own /proc entries becomes goemu's ({@link ProcSelf}).
     */
    long hostPath(Arena arena, long guestAddr, boolean fromCwd) {
        MemorySegment s = arena.allocateFrom(hostPath(k.memory.readCString(guestAddr, 4096), fromCwd));
        return s.address();
    }

    /** {@link #hostPath(Arena, long, boolean)} of a path already read; a relative one not from the cwd stays as is. */
    String hostPath(String path, boolean fromCwd) {
        if (path.startsWith("/")) return k.proc.hostPath(path);
        return fromCwd && !path.isEmpty() ? k.proc.hostPath(k.cwd.absolute(path)) : path;
    }
}
