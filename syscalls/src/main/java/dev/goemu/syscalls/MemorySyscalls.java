package dev.goemu.syscalls;

import java.lang.foreign.Arena;

import static dev.goemu.syscalls.AddressSpace.PAGE;
import static dev.goemu.syscalls.AddressSpace.pageUp;

/** mmap, munmap, mprotect, madvise, mincore, brk. */
final class MemorySyscalls {
    private static final int MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
    private static final int PROT_MASK = 7;
    private static final int MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9;

    private final Kernel k;

    MemorySyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.partial(Sys.MMAP, "xdxxfx", "MAP_SHARED file mappings are private copies", (task, a) -> mmap(a[0], a[1], (int) a[2], (int) a[3], (int) a[4], a[5]));
        t.add(Sys.MUNMAP, "xd", (task, a) -> munmap(a[0], a[1]));
        t.add(Sys.MPROTECT, "xdx", (task, a) -> mprotect(a[0], a[1], (int) a[2]));
        t.partial(Sys.MADVISE, "xdd", "DONTNEED, FREE and REMOVE zero the pages; other advice is accepted and ignored", (task, a) -> madvise(a[0], a[1], (int) a[2]));
        t.partial(Sys.MINCORE, "xdx", "every mapped page is reported resident", (task, a) -> mincore(a[0], a[1], a[2]));
        t.add(Sys.BRK, "x", (task, a) -> k.memory.setBreak(a[0]));
    }

    private long mmap(long addr, long len, int prot, int flags, int fd, long offset) {
        if (len == 0 || (offset & (PAGE - 1)) != 0) return -Errno.EINVAL;
        long size = pageUp(len);
        if (size <= 0 || size > AddressSpace.USER_TOP) return -Errno.ENOMEM;
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
        int hostFd = -1;
        if ((flags & MAP_ANONYMOUS) == 0) {
            hostFd = k.fds.host(fd);
            if (hostFd < 0) return hostFd;
        }
        mem.mapFixed(at, size, prot & PROT_MASK);
        if (hostFd >= 0) {
            // A private copy of the file: Go's static binaries never need shared file mappings.
            try (Arena arena = Arena.ofConfined()) {
                AddressSpace.HostView v = mem.view(at, len, arena);
                long r = Host.syscall(Sys.PREAD64.nr, hostFd, v.address(), len, offset, 0, 0);
                v.copyBack();
                if (r < 0) {
                    mem.unmap(at, size);
                    return r;
                }
            }
        }
        return at;
    }

    private long munmap(long addr, long len) {
        if ((addr & (PAGE - 1)) != 0 || len == 0) return -Errno.EINVAL;
        k.memory.unmap(addr, pageUp(len));
        return 0;
    }

    private long mprotect(long addr, long len, int prot) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        if (len == 0) return 0;
        return k.memory.protect(addr, pageUp(len), prot & PROT_MASK) ? 0 : -Errno.ENOMEM;
    }

    private long madvise(long addr, long len, int advice) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE) {
            k.memory.discard(addr, pageUp(len));
        }
        return 0; // other advice (hugepage hints, collapse) only tunes performance
    }

    private long mincore(long addr, long len, long vec) {
        if ((addr & (PAGE - 1)) != 0) return -Errno.EINVAL;
        long pages = pageUp(len) / PAGE;
        byte[] out = new byte[(int) pages];
        for (int i = 0; i < pages; i++) {
            if (!k.memory.isPageMapped(addr + i * PAGE)) return -Errno.ENOMEM;
            out[i] = 1;
        }
        k.memory.write(vec, out);
        return 0;
    }
}
