package dev.goemu.syscalls;

import java.lang.foreign.Arena;

/**
 * The process's current directory: guest state, never the JVM's (several guest processes share the JVM). Relative
 * paths of every path-taking call are made absolute against it before the host sees them; chdir checks the
 * directory on the host and keeps its canonical path.
 */
final class Cwd {
    private static final int O_PATH = 0x200000, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000;
    private static final int AT_FDCWD = -100;

    private final Kernel k;

    Cwd(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.GETCWD, "xd", (task, a) -> getcwd(a[0], a[1]));
        t.add(Sys.CHDIR, "s", (task, a) -> chdir(k.memory.readCString(a[0], 4096)));
        t.add(Sys.FCHDIR, "f", (task, a) -> {
            String dir = k.fds.pathOf((int) a[0]);
            return dir == null ? -Errno.EBADF : chdir(dir);
        });
    }

    /** {@code path} as the host must see it: relative ones against the cwd, or against {@code dirfd}'s directory. */
    String resolve(int dirfd, String path) {
        if (path.startsWith("/")) return path;
        String base = dirfd == AT_FDCWD ? k.process.cwd : k.fds.pathOf(dirfd);
        if (base == null) return null;
        return path.isEmpty() ? base : base.endsWith("/") ? base + path : base + "/" + path;
    }

    /** A relative path of a call without a dirfd (or with AT_FDCWD): made absolute against the cwd. */
    String absolute(String path) {
        return resolve(AT_FDCWD, path);
    }

    private long chdir(String path) {
        if (path.isEmpty()) return -Errno.ENOENT;
        String abs = k.proc.hostPath(absolute(path));
        long fd = hostPathCall(Sys.OPENAT.nr, AT_FDCWD, abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return fd;
        try {
            long access = hostPathCall(269, AT_FDCWD, abs, 1); // X_OK: search permission, as chdir needs
            if (access < 0) return access;
            String canonical = FdTable.hostFdPath((int) fd);
            k.process.cwd = canonical != null ? canonical : abs;
            return 0;
        } finally {
            Host.syscall(Sys.CLOSE.nr, fd, 0, 0);
        }
    }

    private long getcwd(long buf, long size) {
        byte[] cwd = (k.process.cwd + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (size < cwd.length) return -Errno.ERANGE;
        k.memory.write(buf, cwd);
        return cwd.length;
    }

    /** A host call whose second argument is a path: nr(a0, path, a2). */
    static long hostPathCall(int nr, long a0, String path, long a2) {
        try (Arena arena = Arena.ofConfined()) {
            return Host.syscall(nr, a0, arena.allocateFrom(path).address(), a2);
        }
    }
}
