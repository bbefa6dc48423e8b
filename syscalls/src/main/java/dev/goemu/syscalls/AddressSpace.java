package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The guest's virtual memory, like Linux's VMA list: every mapping is backed by host memory that goemu owns
 * and that the CPU sees through {@link Mapper} (Unicorn's uc_mem_map_ptr), so the kernel reads and writes guest
 * memory directly, without copies. Addresses stay below 2^47 as on Linux (Go packs pointers into 47 bits).
 */
public final class AddressSpace {
    public static final long PAGE = 4096;
    public static final long USER_TOP = 1L << 47;
    /** Where mmap without a usable hint starts searching downwards, below the initial stack. */
    private static final long MMAP_TOP = 0x7f0000000000L;

    /** What the CPU needs to know about mappings. Permission bits: 1 read, 2 write, 4 exec (PROT_* values). */
    public interface Mapper {
        void map(long guest, long size, int perms, MemorySegment host);
        void unmap(long guest, long size);
        void protect(long guest, long size, int perms);
    }

    /**
     * What a mapping's host memory is. It decides what MAP_FIXED over it, madvise and a future fork do: private
     * memory is goemu's own anonymous pages (a fork copies them), shared memory is a host mapping that other
     * mappings see too (a fork must map the same host pages, not copy them). munmap unmaps the host memory of
     * every kind: anonymous pages are freed, a shared mapping's data stays in its file or other mappings.
     */
    public enum Kind {
        /** Anonymous private memory: mmap(MAP_PRIVATE|MAP_ANONYMOUS), brk, stacks, the ELF's segments. */
        PRIVATE,
        /** MAP_PRIVATE of a file: anonymous pages with a copy of the file read in at mmap time. */
        PRIVATE_FILE,
        /** MAP_SHARED|MAP_ANONYMOUS: the host's MAP_SHARED|MAP_ANONYMOUS pages. */
        SHARED_ANON,
        /** MAP_SHARED of a file: the host's own mapping of the file, so writes reach the file and its other mappings. */
        SHARED_FILE;

        public boolean shared() { return this == SHARED_ANON || this == SHARED_FILE; }
    }

    /**
     * One mapping [start, end) with its host memory; pieces split from one host allocation share it. maxPerms are
     * the permissions mprotect may grant (a file opened read-only cannot be mapped writable and shared). pastEof
     * marks pages of a shared file mapping that lay wholly past the end of the file at mmap time: Linux raises
     * SIGBUS on access, and so would the host, which would kill goemu; so the CPU does not map them (its access
     * faults and {@link #isPastEof} makes that a SIGBUS) and the kernel's own accesses get EFAULT.
     */
    private record Region(long start, long end, int perms, MemorySegment host, Kind kind, int maxPerms, boolean pastEof) {
        long hostAddr(long guest) { return host.address() + (guest - start); }
        Region slice(long from, long to) {
            return new Region(from, to, perms, host.asSlice(from - start, to - from), kind, maxPerms, pastEof);
        }
        Region withPerms(int p) { return new Region(start, end, p, host, kind, maxPerms, pastEof); }
        Region withKind(Kind k) { return new Region(start, end, perms, host, k, maxPerms, pastEof); }
    }

    private final Mapper mapper;
    private final TreeMap<Long, Region> regions = new TreeMap<>();
    private Region lastHit;
    private long brkStart, brk;

    public AddressSpace(Mapper mapper) {
        this.mapper = mapper;
    }

    public static long pageUp(long v) { return (v + PAGE - 1) & -PAGE; }
    public static long pageDown(long v) { return v & -PAGE; }

    // ---- mapping ----

    /** Maps fresh zeroed private memory at exactly [addr, addr+size), replacing whatever was there (MAP_FIXED). */
    public void mapFixed(long addr, long size, int perms) {
        mapFixed(addr, size, perms, Kind.PRIVATE);
    }

    /** {@link #mapFixed(long, long, int)} of a private kind: PRIVATE, or PRIVATE_FILE for the caller to fill. */
    public void mapFixed(long addr, long size, int perms, Kind kind) {
        List<Region> old = overlapping(addr, addr + size);
        if (isFullyMapped(addr, size) && old.stream().noneMatch(r -> r.kind.shared())) {
            // Go reserves PROT_NONE ranges and later maps parts of them: reuse the host pages, zeroed.
            for (Region r : old) {
                long from = Math.max(r.start, addr), to = Math.min(r.end, addr + size);
                Host.zeroPages(r.hostAddr(from), to - from);
                if (r.kind != kind) replacePart(r, from, to, r.slice(from, to).withKind(kind));
            }
            protect(addr, size, perms);
            return;
        }
        unmap(addr, size);
        MemorySegment host = Host.allocatePages(size);
        mapper.map(addr, size, perms, host);
        regions.put(addr, new Region(addr, addr + size, perms, host, kind, 7, false));
    }

    /**
     * Maps shared host memory (the caller's host mmap of a file or of shared anonymous memory, which this space
     * now owns and unmaps) at exactly [addr, addr+size), replacing whatever was there. The CPU sees its first
     * {@code visible} bytes; the rest lies past the end of the file.
     */
    public void mapShared(long addr, long size, int perms, MemorySegment host, Kind kind, int maxPerms, long visible) {
        unmap(addr, size);
        if (visible > 0) {
            mapper.map(addr, visible, perms, host.asSlice(0, visible));
            regions.put(addr, new Region(addr, addr + visible, perms, host.asSlice(0, visible), kind, maxPerms, false));
        }
        if (visible < size) {
            regions.put(addr + visible, new Region(addr + visible, addr + size, perms, host.asSlice(visible),
                    kind, maxPerms, true));
        }
    }

    /** Linux's choice of address for a non-fixed mmap: the hint if that range is free, else the highest free gap. */
    public long chooseAddress(long hint, long size) {
        if (hint != 0) {
            long h = pageDown(hint);
            if (h + size <= USER_TOP && h >= 0x10000 && isFree(h, size)) return h;
        }
        long top = MMAP_TOP;
        for (Region r : regions.descendingMap().values()) {
            if (r.start >= top) continue;
            if (r.end <= top - size) return top - size;
            top = r.start;
        }
        return top - size >= 0x10000 ? top - size : -Errno.ENOMEM;
    }

    public boolean isFree(long addr, long size) {
        return overlapping(addr, addr + size).isEmpty();
    }

    public boolean isFullyMapped(long addr, long size) {
        long cursor = addr;
        for (Region r : overlapping(addr, addr + size)) {
            if (r.start > cursor) return false;
            cursor = r.end;
        }
        return cursor >= addr + size;
    }

    public void unmap(long addr, long size) {
        long end = addr + size;
        for (Region r : overlapping(addr, end)) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            if (!r.pastEof) mapper.unmap(from, to - from);
            Host.freePages(r.hostAddr(from), to - from);
            replacePart(r, from, to, null);
        }
        lastHit = null;
    }

    /** mprotect: 0, -ENOMEM if part of the range is not mapped, -EACCES if a mapping cannot get the permissions. */
    public long protect(long addr, long size, int perms) {
        if (!isFullyMapped(addr, size)) return -Errno.ENOMEM;
        long end = addr + size;
        List<Region> parts = overlapping(addr, end);
        for (Region r : parts) {
            if ((perms & ~r.maxPerms) != 0) return -Errno.EACCES;
        }
        long runStart = addr, runEnd = addr; // the CPU sees every part but those past the end of a file
        for (Region r : parts) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            if (r.perms != perms) replacePart(r, from, to, r.slice(from, to).withPerms(perms));
            if (r.pastEof) continue;
            if (from != runEnd) {
                if (runEnd > runStart) mapper.protect(runStart, runEnd - runStart, perms);
                runStart = from;
            }
            runEnd = to;
        }
        if (runEnd > runStart) mapper.protect(runStart, runEnd - runStart, perms);
        lastHit = null;
        return 0;
    }

    /** Replaces [from, to) of r with part (or nothing), keeping r's pieces on either side. */
    private void replacePart(Region r, long from, long to, Region part) {
        regions.remove(r.start);
        if (r.start < from) regions.put(r.start, r.slice(r.start, from));
        if (part != null) regions.put(from, part);
        if (to < r.end) regions.put(to, r.slice(to, r.end));
        lastHit = null;
    }

    /**
     * madvise(MADV_DONTNEED, MADV_FREE, MADV_REMOVE): private pages read as zero afterwards; shared memory gets the
     * host's madvise, so a file mapping reads the file again (never zeroes it). 0, a host -errno, or -ENOMEM if
     * part of the range is not mapped.
     */
    public long discard(long addr, long size, int advice) {
        long end = addr + size, result = 0;
        for (Region r : overlapping(addr, end)) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            if (!r.kind.shared()) Host.zeroPages(r.hostAddr(from), to - from);
            else if (!r.pastEof) {
                long e = Host.syscall(Sys.MADVISE.nr, r.hostAddr(from), to - from, advice);
                if (result == 0) result = Math.min(e, 0);
            }
        }
        return isFullyMapped(addr, size) ? result : -Errno.ENOMEM;
    }

    /** msync: the host's msync of every shared file mapping in the range; -ENOMEM if part of it is not mapped. */
    public long sync(long addr, long size, int flags) {
        long end = addr + size, result = 0;
        for (Region r : overlapping(addr, end)) {
            if (r.kind != Kind.SHARED_FILE || r.pastEof) continue;
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            long e = Host.syscall(Sys.MSYNC.nr, r.hostAddr(from), to - from, flags);
            if (result == 0) result = Math.min(e, 0);
        }
        return isFullyMapped(addr, size) ? result : -Errno.ENOMEM;
    }

    /**
     * mincore: one byte per page of [addr, addr+size) at guest address vec, 1 where the host has the page in
     * memory. -ENOMEM if part of the range is not mapped, -EFAULT for a bad vec.
     */
    public long residency(long addr, long size, long vec) {
        if (!isFullyMapped(addr, size)) return -Errno.ENOMEM;
        final long chunk = 4096; // pages per host call: the buffer does not grow with the guest's length
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(chunk);
            for (Region r : overlapping(addr, addr + size)) {
                long from = Math.max(r.start, addr), to = Math.min(r.end, addr + size);
                for (long at = from; at < to; at += chunk * PAGE) {
                    long len = Math.min(to - at, chunk * PAGE), pages = len / PAGE;
                    if (r.pastEof) buf.fill((byte) 0);
                    else {
                        long e = Host.syscall(Sys.MINCORE.nr, r.hostAddr(at), len, buf.address());
                        if (e < 0) return e;
                    }
                    byte[] out = buf.asSlice(0, pages).toArray(JAVA_BYTE);
                    for (int i = 0; i < out.length; i++) out[i] &= 1; // the other bits are reserved
                    write(vec + (at - addr) / PAGE, out);
                }
            }
        }
        return 0;
    }

    /** Whether addr lies in pages of a shared file mapping past the end of the file: an access there is SIGBUS. */
    public boolean isPastEof(long addr) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        return e != null && addr < e.getValue().end && e.getValue().pastEof;
    }

    /** The kind of the mapping at addr, or null where nothing is mapped. */
    Kind kindAt(long addr) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        return e != null && addr < e.getValue().end ? e.getValue().kind : null;
    }

    private List<Region> overlapping(long from, long to) {
        List<Region> out = new ArrayList<>();
        Map.Entry<Long, Region> first = regions.floorEntry(from);
        long key = first != null && first.getValue().end > from ? first.getKey() : from;
        for (Region r : regions.tailMap(key, true).values()) {
            if (r.start >= to) break;
            if (r.end > from) out.add(r);
        }
        return out;
    }

    // ---- program break ----

    public void initBreak(long start) {
        brkStart = brk = start;
    }

    /** brk(2): grows or shrinks the heap after the bss; returns the (possibly unchanged) break. */
    public long setBreak(long requested) {
        if (requested < brkStart) return brk;
        long oldTop = pageUp(brk), newTop = pageUp(requested);
        if (newTop > oldTop) {
            if (!isFree(oldTop, newTop - oldTop)) return brk;
            mapFixed(oldTop, newTop - oldTop, 3);
        } else if (newTop < oldTop) {
            unmap(newTop, oldTop - newTop);
        }
        brk = requested;
        return brk;
    }

    // ---- access ----

    private Region regionAt(long addr) {
        Region r = lastHit;
        if (r != null && addr >= r.start && addr < r.end) return r;
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        if (e == null || addr >= e.getValue().end || e.getValue().pastEof) throw new GuestFault(addr);
        return lastHit = e.getValue();
    }

    /** The host memory behind [addr, addr+len) if it lies in one mapping, else null (the caller copies). */
    public MemorySegment segment(long addr, long len) {
        Region r = regionAt(addr);
        if (addr + len > r.end) return null;
        return r.host.asSlice(addr - r.start, len);
    }

    public byte[] read(long addr, int len) {
        byte[] out = new byte[len];
        int done = 0;
        while (done < len) {
            Region r = regionAt(addr + done);
            int n = (int) Math.min(len - done, r.end - (addr + done));
            MemorySegment.copy(r.host, JAVA_BYTE, addr + done - r.start, out, done, n);
            done += n;
        }
        return out;
    }

    public void write(long addr, byte[] data) {
        int done = 0;
        while (done < data.length) {
            Region r = regionAt(addr + done);
            int n = (int) Math.min(data.length - done, r.end - (addr + done));
            MemorySegment.copy(data, done, r.host, JAVA_BYTE, addr + done - r.start, n);
            done += n;
        }
    }

    public long readLong(long addr) {
        Region r = regionAt(addr);
        if (addr + 8 <= r.end) return r.host.get(JAVA_LONG_UNALIGNED, addr - r.start);
        return MemorySegment.ofArray(read(addr, 8)).get(JAVA_LONG_UNALIGNED, 0);
    }

    public void writeLong(long addr, long value) {
        Region r = regionAt(addr);
        if (addr + 8 <= r.end) r.host.set(JAVA_LONG_UNALIGNED, addr - r.start, value);
        else {
            byte[] b = new byte[8];
            MemorySegment.ofArray(b).set(JAVA_LONG_UNALIGNED, 0, value);
            write(addr, b);
        }
    }

    public int readInt(long addr) {
        Region r = regionAt(addr);
        if (addr + 4 <= r.end) return r.host.get(JAVA_INT_UNALIGNED, addr - r.start);
        return MemorySegment.ofArray(read(addr, 4)).get(JAVA_INT_UNALIGNED, 0);
    }

    public void writeInt(long addr, int value) {
        Region r = regionAt(addr);
        if (addr + 4 <= r.end) r.host.set(JAVA_INT_UNALIGNED, addr - r.start, value);
        else {
            byte[] b = new byte[4];
            MemorySegment.ofArray(b).set(JAVA_INT_UNALIGNED, 0, value);
            write(addr, b);
        }
    }

    /** A NUL-terminated string, at most max bytes. */
    public String readCString(long addr, int max) {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[Math.min(max, 256)];
        for (int off = 0; off < max; ) {
            Region r = regionAt(addr + off);
            int n = (int) Math.min(Math.min(buf.length, max - off), r.end - (addr + off));
            MemorySegment.copy(r.host, JAVA_BYTE, addr + off - r.start, buf, 0, n);
            for (int i = 0; i < n; i++) {
                if (buf[i] == 0) {
                    sb.append(new String(buf, 0, i, StandardCharsets.UTF_8));
                    return sb.toString();
                }
            }
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            off += n;
        }
        return sb.toString();
    }

    /**
     * Guest memory [addr, addr+len) as one host pointer for a passed-through host call: direct when it lies in
     * one mapping, else a bounce buffer copied in now and back on close.
     */
    public HostView view(long addr, long len, Arena arena) {
        if (addr == 0) return new HostView(0, null, 0, 0, this);
        MemorySegment direct = segment(addr, Math.max(len, 1));
        if (direct != null) return new HostView(direct.address(), null, 0, 0, this);
        MemorySegment bounce = arena.allocate(len, 16);
        MemorySegment.copy(read(addr, (int) len), 0, bounce, JAVA_BYTE, 0, (int) len);
        return new HostView(bounce.address(), bounce, addr, len, this);
    }

    /** A host pointer for guest memory; {@link #copyBack} is a no-op when it points straight at guest memory. */
    public record HostView(long address, MemorySegment bounce, long guest, long len, AddressSpace space) {
        public void copyBack() {
            if (bounce != null) space.write(guest, bounce.toArray(JAVA_BYTE));
        }
    }
}
