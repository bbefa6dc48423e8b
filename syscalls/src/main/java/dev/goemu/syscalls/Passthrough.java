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
 */
final class Passthrough {
    private final Kernel k;

    Passthrough(Kernel k) {
        this.k = k;
    }

    /** A handler passing its own row's call through. */
    SyscallTable.Handler handler() {
        return handler(0, false);
    }

    /** Passes its row's call through; each 'p' argument points to {@code size} bytes. */
    SyscallTable.Handler struct(int size) {
        return handler(size, false);
    }

    /** Passes its row's call through; the result is a new host fd, given to the guest as a new guest fd. */
    SyscallTable.Handler fd() {
        return handler(0, true);
    }

    private SyscallTable.Handler handler(int structSize, boolean returnsFd) {
        return (task, a) -> {
            SyscallTable.Entry row = k.currentEntry();
            long r = call(row.sys(), row.args(), structSize, a);
            return returnsFd ? k.fds.install(r) : r;
        };
    }

    long call(Sys sys, String spec, int structSize, long[] a) {
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
                    case 'l' -> h[i] = hostPath(arena, a[i], false);
                    case 'b', 'B' -> views.add(view(arena, a[i], a[i + 1], h, i));
                    case 'p' -> views.add(view(arena, a[i], structSize, h, i));
                    default -> h[i] = a[i];
                }
            }
            long r = Host.syscall(sys.nr, h[0], h[1], h[2], h[3], h[4], h[5]);
            for (AddressSpace.HostView v : views) v.copyBack();
            return r;
        }
    }

    private AddressSpace.HostView view(Arena arena, long guest, long len, long[] h, int i) {
        AddressSpace.HostView v = k.memory.view(guest, len, arena);
        h[i] = v.address();
        return v;
    }

    /**
     * A guest path as a host C string, made absolute against the guest's cwd if {@code fromCwd}; /proc/self/exe
     * names the guest binary, not the JVM.
     */
    long hostPath(Arena arena, long guestAddr, boolean fromCwd) {
        String path = k.memory.readCString(guestAddr, 4096);
        if (path.equals("/proc/self/exe")) path = k.config.exePath();
        else if (fromCwd && !path.isEmpty()) path = k.cwd.absolute(path);
        MemorySegment s = arena.allocateFrom(path);
        return s.address();
    }
}
