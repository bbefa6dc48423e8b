package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.goemu.syscalls.AddressSpace.PAGE;
import static dev.goemu.syscalls.AddressSpace.pageUp;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** mmap, munmap, mprotect, madvise, msync, mincore, brk. */
final class MemorySyscalls {
    private static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_SHARED_VALIDATE = 3, MAP_TYPE = 0xf;
    private static final int MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000, MAP_FIXED_NOREPLACE = 0x100000;
    /**
     * The flags Linux accepts with MAP_SHARED_VALIDATE on an ordinary file (its LEGACY_MAP_MASK: type, FIXED,
     * ANONYMOUS, 32BIT, ABOVE4G, GROWSDOWN, DENYWRITE, EXECUTABLE, LOCKED, NORESERVE, POPULATE, NONBLOCK, STACK,
     * HUGETLB, UNINITIALIZED and the huge page size bits); any other is EOPNOTSUPP, MAP_FIXED_NOREPLACE too.
     */
    private static final int VALIDATED_FLAGS = 0x3f | 0xc0 | 0x100 | 0x3f800 | 0x40000 | 0xfc000000;
    private static final int PROT_MASK = 7, PROT_WRITE = 2, PROT_RW = 3;
    private static final int MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9;
    private static final int MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
    private static final int F_GETFL = 3, O_ACCMODE = 3, O_RDWR = 2, O_APPEND = 0x400;
    private static final int S_IFMT = 0170000, S_IFREG = 0100000;

    private final Kernel k;

    MemorySyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.partial(Sys.MMAP, "xdxxfx", "a file shrunk under a shared mapping is not followed; MAP_GROWSDOWN and MAP_HUGETLB are accepted", (task, a) -> mmap(a[0], a[1], (int) a[2], (int) a[3], (int) a[4], a[5]));
        t.add(Sys.MUNMAP, "xd", (task, a) -> munmap(a[0], a[1]));
        t.add(Sys.MPROTECT, "xdx", (task, a) -> mprotect(a[0], a[1], (int) a[2]));
        t.add(Sys.MADVISE, "xdd", (task, a) -> madvise(a[0], a[1], (int) a[2]));
        t.add(Sys.MSYNC, "xdx", (task, a) -> msync(a[0], a[1], (int) a[2]));
        t.add(Sys.MINCORE, "xdx", (task, a) -> mincore(a[0], a[1], a[2]));
        t.add(Sys.BRK, "x", (task, a) -> k.memory.setBreak(a[0]));
    }

    private long mmap(long addr, long len, int prot, int flags, int fd, long offset) {
        if (len == 0 || (offset & (PAGE - 1)) != 0) return -Errno.EINVAL;
        long size = pageUp(len);
        if (size <= 0 || size > AddressSpace.USER_TOP) return -Errno.ENOMEM;
        boolean anonymous = (flags & MAP_ANONYMOUS) != 0;
        int hostFd = -1;
        if (!anonymous) {
            hostFd = k.fds.host(fd);
            if (hostFd < 0) return hostFd;
        }
        int type = flags & MAP_TYPE;
        if (type != MAP_SHARED && type != MAP_PRIVATE && (type != MAP_SHARED_VALIDATE || anonymous)) return -Errno.EINVAL;
        if (type == MAP_SHARED_VALIDATE && (flags & ~VALIDATED_FLAGS) != 0) return -Errno.ENOTSUP;
        AddressSpace mem = k.memory;
        long at;
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0) {
            if ((addr & (PAGE - 1)) != 0 || addr + size > AddressSpace.USER_TOP) return -Errno.EINVAL;
            if ((flags & MAP_FIXED) == 0 && !mem.isFree(addr, size)) return -Errno.EEXIST;
            at = addr;
        } else {
            at = mem.chooseAddress(addr, size);
            if (at < 0) return at;
        }
        prot &= PROT_MASK;
        if (type != MAP_PRIVATE) return mapShared(at, size, prot, hostFd, offset);
        // Linux accounts private writable memory unless MAP_NORESERVE; goemu's is always lazily committed.
        if ((prot & PROT_WRITE) != 0 && (flags & MAP_NORESERVE) == 0 && !Host.canCommit(size)) return -Errno.ENOMEM;
        if (hostFd < 0) {
            long r = mem.mapFixed(at, size, prot);
            return r < 0 ? r : at;
        }
        // A private file mapping is a copy of the file, read in now (by goemu: the pages may be read-only).
        long r = mem.mapFixed(at, size, prot, AddressSpace.Kind.PRIVATE_FILE);
        if (r < 0) return r;
        long done = 0;
        for (MemorySegment piece : mem.hostPieces(at, len)) {
            r = Host.syscall(Sys.PREAD64.nr, hostFd, piece.address(), piece.byteSize(), offset + done, 0, 0);
            if (r < 0) {
                mem.unmap(at, size);
                return r;
            }
            done += piece.byteSize();
            if (r < piece.byteSize()) break; // the end of the file: the rest stays zero
        }
        return at;
    }

    /**
     * MAP_SHARED: the guest's pages are the host's own shared mapping (of the file, or anonymous), so writes reach
     * the file and every other mapping of it, and munmap or exit keeps them there.
     */
    private long mapShared(long at, long size, int prot, int hostFd, long offset) {
        AddressSpace.Kind kind = AddressSpace.Kind.SHARED_ANON;
        AddressSpace.FileMapping file = null;
        int maxPerms = PROT_MASK;
        long visible = size, host;
        if (hostFd < 0) {
            host = hostMmap(size, PROT_RW, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        } else {
            long fl = Host.syscall(Sys.FCNTL.nr, hostFd, F_GETFL, 0);
            if (fl < 0) return fl;
            boolean writable = (fl & O_ACCMODE) == O_RDWR && (fl & O_APPEND) == 0;
            host = writable ? hostMmap(size, PROT_RW, MAP_SHARED, hostFd, offset) : -Errno.EACCES;
            if (host < 0 && (prot & PROT_WRITE) == 0) {
                // Read-only for good (a read-only or append-only fd, a sealed memfd): a private mapping of the
                // file shows every write made through other mappings just as a shared one, and stays writable
                // for goemu's own stores (which Linux would refuse with EFAULT), where a read-only host page
                // would kill goemu.
                writable = false;
                host = hostMmap(size, PROT_RW, MAP_PRIVATE, hostFd, offset);
            }
            kind = AddressSpace.Kind.SHARED_FILE;
            maxPerms = writable ? PROT_MASK : PROT_MASK & ~PROT_WRITE;
            if (host >= 0) {
                visible = visibleBytes(hostFd, offset, size);
                long[] id = FileSyscalls.identity(hostFd);
                if (id != null) file = new AddressSpace.FileMapping(host, size, id[0], id[1], offset);
            }
        }
        if (host < 0) return host;
        k.memory.mapShared(at, size, prot, MemorySegment.ofAddress(host).reinterpret(size), kind, maxPerms, visible, file);
        return at;
    }

    /** A host mmap wherever the host likes: its address or -errno. */
    private static long hostMmap(long size, int prot, int flags, int fd, long offset) {
        return Host.syscall(Sys.MMAP.nr, 0, size, prot, flags, fd, offset);
    }

    /** How much of a file mapping [offset, offset+size) lies in pages that hold some of the file (the rest is SIGBUS). */
    private static long visibleBytes(int hostFd, long offset, long size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(144, 8);
            if (Host.syscall(Sys.FSTAT.nr, hostFd, stat.address(), 0) < 0) return size;
            if ((stat.get(JAVA_INT, 24) & S_IFMT) != S_IFREG) return size; // devices have no end of file
            long fileSize = stat.get(JAVA_LONG, 48);
            return fileSize <= offset ? 0 : Math.min(size, pageUp(fileSize - offset));
        }
    }

    private long munmap(long addr, long len) {
        if ((addr & (PAGE - 1)) != 0 || len == 0 || !AddressSpace.accessOk(addr, len)) return -Errno.EINVAL;
        k.memory.unmap(addr, pageUp(len));
        return 0;
    }

    private long mprotect(long addr, long len, int prot) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        if (len == 0) return 0;
        if (!AddressSpace.accessOk(addr, pageUp(len)) || pageUp(len) == 0) return -Errno.ENOMEM;
        return k.memory.protect(addr, pageUp(len), prot & PROT_MASK);
    }

    private long madvise(long addr, long len, int advice) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        if (len == 0) return 0;
        if (!AddressSpace.accessOk(addr, pageUp(len)) || pageUp(len) == 0) return -Errno.ENOMEM;
        if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE) {
            return k.memory.discard(addr, pageUp(len), advice);
        }
        return 0; // other advice (hugepage hints, collapse) only tunes performance
    }

    private long msync(long addr, long len, int flags) {
        if ((addr & (PAGE - 1)) != 0 || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0
                || (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC)) return -Errno.EINVAL;
        if (len == 0) return 0;
        if (!AddressSpace.accessOk(addr, pageUp(len)) || pageUp(len) == 0) return -Errno.ENOMEM;
        return k.memory.sync(addr, pageUp(len), flags);
    }

    private long mincore(long addr, long len, long vec) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        if (len == 0) return 0;
        if (!AddressSpace.accessOk(addr, pageUp(len)) || pageUp(len) == 0) return -Errno.ENOMEM;
        return k.memory.residency(addr, pageUp(len), vec);
    }
}
