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
    /** Linux's TASK_SIZE_MAX on x86-64: the highest user address + 1 is one page below 2^47. */
    public static final long TASK_SIZE = USER_TOP - PAGE;
    /** Guest accesses the kernel checks (PROT_* bits): reading needs any permission, writing PROT_WRITE. */
    public static final int READ = 1, WRITE = 2;
    private static final int PROT_ALL = 7;
    /** How much of a mapping the CPU is given at a time, on its first touch there. */
    private static final long ENGINE_CHUNK = 2L << 20;
    /** At most this much guest memory spanning separate host allocations is copied for one host call. */
    private static final long BOUNCE_MAX = 1L << 20;

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
    private record Region(long start, long end, int perms, MemorySegment host, Kind kind, int maxPerms, boolean pastEof,
                          MemorySegment image) {
        long hostAddr(long guest) { return host.address() + (guest - start); }
        Region slice(long from, long to) {
            MemorySegment img = image == null || from - start >= image.byteSize() ? null
                    : image.asSlice(from - start, Math.min(to - from, image.byteSize() - (from - start)));
            return new Region(from, to, perms, host.asSlice(from - start, to - from), kind, maxPerms, pastEof, img);
        }
        Region withPerms(int p) { return new Region(start, end, p, host, kind, maxPerms, pastEof, image); }
        /** A new mapping of another kind over the same host pages: nothing of the old file content remains. */
        Region withKind(Kind k) { return new Region(start, end, perms, host, k, maxPerms, pastEof, null); }
        /** Whether the guest's own access of this kind (READ or WRITE) is allowed: what Linux's uaccess checks. */
        boolean allows(int access) { return !pastEof && (access == WRITE ? (perms & WRITE) != 0 : (perms & PROT_ALL) != 0); }
    }

    private final Mapper mapper;
    private final TreeMap<Long, Region> regions = new TreeMap<>();
    /**
     * What the CPU has been given, [start, end) by start: only chunks the guest touched ({@link #mapOnFault}).
     * Unicorn's unmap and its splitting of a mapping cost time per page of the whole mapping, so a lazily used
     * reservation of 200 GiB mapped eagerly took minutes to unmap; given chunk by chunk it costs what was touched.
     */
    private final TreeMap<Long, Long> engine = new TreeMap<>();
    /** Which file each host MAP_SHARED mapping of a file shows, by host start address: for {@link #truncated}. */
    private final TreeMap<Long, FileMapping> files = new TreeMap<>();

    /** A host mapping [hostStart, hostStart+size) of the file (dev, ino) from offset. */
    public record FileMapping(long hostStart, long size, long dev, long ino, long offset) {}
    private Region lastHit;
    private long brkStart, brk;

    public AddressSpace(Mapper mapper) {
        this.mapper = mapper;
    }

    public static long pageUp(long v) { return (v + PAGE - 1) & -PAGE; }
    public static long pageDown(long v) { return v & -PAGE; }

    /** Linux's access_ok: [addr, addr+len) lies wholly in user space (no wrap-around). */
    public static boolean accessOk(long addr, long len) {
        return len >= 0 && addr >= 0 && addr <= TASK_SIZE && len <= TASK_SIZE - addr;
    }

    // ---- mapping ----

    /** Maps fresh zeroed private memory at exactly [addr, addr+size), replacing whatever was there (MAP_FIXED). */
    public long mapFixed(long addr, long size, int perms) {
        return mapFixed(addr, size, perms, Kind.PRIVATE);
    }

    /**
     * {@link #mapFixed(long, long, int)} of a private kind: PRIVATE, or PRIVATE_FILE for the caller to fill. 0, or
     * -ENOMEM when the host has no memory for it (nothing changes then).
     */
    public long mapFixed(long addr, long size, int perms, Kind kind) {
        List<Region> old = overlapping(addr, addr + size);
        if (isFullyMapped(addr, size) && old.stream().noneMatch(r -> r.kind.shared())) {
            // Go reserves PROT_NONE ranges and later maps parts of them: reuse the host pages, zeroed.
            for (Region r : old) {
                long from = Math.max(r.start, addr), to = Math.min(r.end, addr + size);
                Host.zeroPages(r.hostAddr(from), to - from);
                replacePart(r, from, to, r.slice(from, to).withKind(kind));
            }
            protect(addr, size, perms);
            return 0;
        }
        MemorySegment host = Host.allocatePages(size);
        if (host == null) return -Errno.ENOMEM;
        unmap(addr, size);
        regions.put(addr, new Region(addr, addr + size, perms, host, kind, PROT_ALL, false, null));
        return 0;
    }

    /**
     * The guest's initial image: copies bytes into [addr, addr+data.length) whatever the protections, and
     * remembers them as the mapping's file content, which madvise(MADV_DONTNEED) brings back as Linux re-reads
     * the file's pages.
     */
    public void load(long addr, byte[] data) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        Region r = e == null ? null : e.getValue();
        if (r == null || addr + data.length > r.end) throw new IllegalArgumentException("load outside a mapping at 0x" + Long.toHexString(addr));
        byte[] image = new byte[(int) (addr - r.start) + data.length]; // from the mapping's start
        System.arraycopy(data, 0, image, (int) (addr - r.start), data.length);
        MemorySegment.copy(image, 0, r.host, JAVA_BYTE, 0, image.length);
        regions.put(r.start, new Region(r.start, r.end, r.perms, r.host, r.kind, r.maxPerms, r.pastEof, MemorySegment.ofArray(image)));
        lastHit = null;
    }

    /**
     * Maps shared host memory (the caller's host mmap of a file or of shared anonymous memory, which this space
     * now owns and unmaps) at exactly [addr, addr+size), replacing whatever was there. The CPU sees its first
     * {@code visible} bytes; the rest lies past the end of the file.
     */
    public void mapShared(long addr, long size, int perms, MemorySegment host, Kind kind, int maxPerms, long visible,
                          FileMapping file) {
        unmap(addr, size);
        if (file != null) { // the host reused no range of a live mapping: entries inside this one are stale
            files.subMap(file.hostStart(), true, file.hostStart() + file.size(), false).clear();
            files.put(file.hostStart(), file);
        }
        if (visible > 0) {
            regions.put(addr, new Region(addr, addr + visible, perms, host.asSlice(0, visible), kind, maxPerms, false, null));
        }
        if (visible < size) {
            regions.put(addr + visible, new Region(addr + visible, addr + size, perms, host.asSlice(visible),
                    kind, maxPerms, true, null));
        }
    }

    /**
     * The CPU touched addr and has no mapping there: if the guest has one (not PROT_NONE, not past the end of a
     * file), the CPU gets the chunk of it around addr and true (the access is retried); false is a fault.
     */
    public boolean mapOnFault(long addr) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        if (e == null || addr >= e.getValue().end) return false;
        Region r = e.getValue();
        if (r.pastEof || (r.perms & PROT_ALL) == 0) return false;
        long chunk = addr & -ENGINE_CHUNK;
        long from = Math.max(r.start, chunk), to = Math.min(r.end, chunk + ENGINE_CHUNK);
        boolean mapped = false;
        long at = from;
        Map.Entry<Long, Long> below = engine.floorEntry(from);
        if (below != null && below.getValue() > at) at = below.getValue();
        while (at < to) {
            Map.Entry<Long, Long> next = engine.ceilingEntry(at);
            long gapEnd = next == null ? to : Math.min(to, next.getKey());
            if (gapEnd > at) {
                mapper.map(at, gapEnd - at, r.perms, r.host.asSlice(at - r.start, gapEnd - at));
                engine.put(at, gapEnd);
                mapped = true;
            }
            at = next == null ? to : Math.max(gapEnd, next.getValue());
        }
        return mapped;
    }

    /** Takes [from, to) away from the CPU, where it has it. */
    private void engineUnmap(long from, long to) {
        for (long[] p : enginePieces(from, to)) {
            long s = p[0], e = p[1], a = Math.max(s, from), b = Math.min(e, to);
            mapper.unmap(a, b - a);
            engine.remove(s);
            if (s < a) engine.put(s, a);
            if (b < e) engine.put(b, e);
        }
    }

    /** Changes the CPU's permissions on [from, to), where it has it. */
    private void engineProtect(long from, long to, int perms) {
        for (long[] p : enginePieces(from, to)) {
            long a = Math.max(p[0], from), b = Math.min(p[1], to);
            mapper.protect(a, b - a, perms);
        }
    }

    private List<long[]> enginePieces(long from, long to) {
        List<long[]> out = new ArrayList<>();
        Map.Entry<Long, Long> first = engine.floorEntry(from);
        long key = first != null && first.getValue() > from ? first.getKey() : from;
        for (Map.Entry<Long, Long> p : engine.tailMap(key, true).entrySet()) {
            if (p.getKey() >= to) break;
            out.add(new long[] {p.getKey(), p.getValue()});
        }
        return out;
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
            Host.freePages(r.hostAddr(from), to - from);
            replacePart(r, from, to, null);
        }
        engineUnmap(addr, end);
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
        for (Region r : parts) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            if (r.perms != perms) replacePart(r, from, to, r.slice(from, to).withPerms(perms));
        }
        engineProtect(addr, end, perms);
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
     * madvise(MADV_DONTNEED, MADV_FREE, MADV_REMOVE): private pages read as zero afterwards, or as the binary's
     * file where it was loaded from it ({@link #load}); shared memory gets the
     * host's madvise, so a file mapping reads the file again (never zeroes it). 0, a host -errno, or -ENOMEM if
     * part of the range is not mapped.
     */
    public long discard(long addr, long size, int advice) {
        long end = addr + size, result = 0;
        for (Region r : overlapping(addr, end)) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            if (!r.kind.shared()) {
                Host.zeroPages(r.hostAddr(from), to - from);
                MemorySegment image = r.slice(from, to).image;
                if (image != null) MemorySegment.copy(image, 0, r.host, from - r.start, image.byteSize());
            } else if (!r.pastEof) {
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

    /**
     * The file (dev, ino) is now {@code size} bytes long (the guest truncated it): pages of its shared mappings
     * wholly past the new end are taken from the CPU, so the guest's next access there is SIGBUS as on Linux,
     * not a host SIGBUS inside the engine, which would kill goemu. A file that grows again does not give them back.
     */
    public void truncated(long dev, long ino, long size) {
        for (Region r : List.copyOf(regions.values())) {
            if (r.kind != Kind.SHARED_FILE || r.pastEof) continue;
            Map.Entry<Long, FileMapping> e = files.floorEntry(r.host.address());
            if (e == null || e.getValue().dev() != dev || e.getValue().ino() != ino) continue;
            long offset = e.getValue().offset() + (r.host.address() - e.getValue().hostStart()); // of r.start
            long cut = Math.max(r.start, r.start + (pageUp(size) - offset));
            if (cut >= r.end) continue;
            replacePart(r, cut, r.end, new Region(cut, r.end, r.perms, r.host.asSlice(cut - r.start), r.kind, r.maxPerms, true, null));
            engineUnmap(cut, r.end);
        }
    }

    /**
     * Marks mapped [addr, addr+size) as pages past the end of their file (the binary's, as the loader maps them):
     * the CPU never gets them, the kernel's own accesses are EFAULT, and {@link #isPastEof} makes a guest access SIGBUS.
     */
    public void markPastEof(long addr, long size) {
        long end = addr + size;
        for (Region r : overlapping(addr, end)) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, end);
            Region s = r.slice(from, to);
            replacePart(r, from, to, new Region(from, to, s.perms, s.host, s.kind, s.maxPerms, true, s.image));
        }
    }

    /** Whether addr lies in pages past the end of a mapped file (a shared mapping's, or the binary's): SIGBUS there. */
    public boolean isPastEof(long addr) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        return e != null && addr < e.getValue().end && e.getValue().pastEof;
    }

    /** The host memory of mapped [addr, addr+size), in order, whatever its protections: for goemu to fill. */
    List<MemorySegment> hostPieces(long addr, long size) {
        List<MemorySegment> out = new ArrayList<>();
        for (Region r : overlapping(addr, addr + size)) {
            long from = Math.max(r.start, addr), to = Math.min(r.end, addr + size);
            out.add(r.host.asSlice(from - r.start, to - from));
        }
        return out;
    }

    /**
     * A mapping as /proc/self/maps lists it: [start, end), PROT_* bits, its kind, and how many of its first bytes
     * are the binary's file ({@link #load}; 0 for every other mapping).
     */
    public record Mapping(long start, long end, int perms, Kind kind, long imageBytes) {}

    /** Every mapping, by address. */
    public List<Mapping> mappings() {
        List<Mapping> out = new ArrayList<>(regions.size());
        for (Region r : regions.values()) {
            out.add(new Mapping(r.start, r.end, r.perms, r.kind, r.image == null ? 0 : r.image.byteSize()));
        }
        return out;
    }

    /** How much guest memory the CPU has been given (the chunks it touched): what the guest can have resident. */
    public long touchedBytes() {
        long n = 0;
        for (Map.Entry<Long, Long> e : engine.entrySet()) n += e.getValue() - e.getKey();
        return n;
    }

    /** Where the heap (brk) starts, and the break. */
    public long breakStart() { return brkStart; }
    public long currentBreak() { return brk; }

    /** Whether the guest has a mapping at addr, whatever its protections (a fault there is SEGV_ACCERR). */
    public boolean isMapped(long addr) {
        Map.Entry<Long, Region> e = regions.floorEntry(addr);
        return e != null && addr < e.getValue().end;
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

    // ---- fork ----

    /**
     * fork: a new address space for another CPU ({@code mapper}) with this one's mappings. Private memory is
     * copied, but only the pages the host has (present or swapped, from /proc/self/pagemap): a reservation of
     * gigabytes costs what the guest touched. Shared memory is the same host pages mapped again (mremap of size
     * 0), so both processes see each other's writes; a read-only file's private host mapping is copied like
     * private memory. Returns null if the host has no memory for the copy (fork's ENOMEM).
     */
    public AddressSpace forkCopy(Mapper mapper) {
        AddressSpace child = new AddressSpace(mapper);
        child.brkStart = brkStart;
        child.brk = brk;
        try (PageMap present = new PageMap()) {
            for (Region r : regions.values()) {
                long size = r.end - r.start;
                MemorySegment host = r.kind.shared() ? sharedAgain(r.hostAddr(r.start), size) : null;
                if (host == null) {
                    host = Host.allocatePages(size);
                    if (host == null) {
                        child.unmap(0, TASK_SIZE);
                        return null;
                    }
                    // A read-only file's private host mapping has file pages the pagemap does not show: all copied.
                    if (r.kind.shared() && !r.pastEof) MemorySegment.copy(r.host, 0, host, 0, size);
                    else if (!r.pastEof) present.copy(r.host, host);
                }
                child.regions.put(r.start, new Region(r.start, r.end, r.perms, host, r.kind, r.maxPerms, r.pastEof, r.image));
                Map.Entry<Long, FileMapping> f = r.kind == Kind.SHARED_FILE ? files.floorEntry(r.host.address()) : null;
                if (f != null && r.host.address() < f.getKey() + f.getValue().size()) { // for truncated(): the same file
                    FileMapping m = f.getValue();
                    child.files.put(host.address(), new FileMapping(host.address(), size, m.dev(), m.ino(),
                            m.offset() + r.host.address() - m.hostStart()));
                }
            }
        }
        return child;
    }

    /** A second host mapping of the shared pages at [hostAddr, +size), or null if they are not a shared mapping. */
    private static MemorySegment sharedAgain(long hostAddr, long size) {
        final int mremapMaymove = 1;
        long addr = Host.syscall(Sys.MREMAP.nr, hostAddr, 0, size, mremapMaymove, 0, 0);
        return addr < 0 && addr > -4096 ? null : MemorySegment.ofAddress(addr).reinterpret(size);
    }

    /** The host's pagemap of goemu's own memory: which pages of a mapping hold data, to copy only those. */
    private static final class PageMap implements AutoCloseable {
        private static final long PRESENT_OR_SWAPPED = 3L << 62, BATCH = 8192;
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment entries = arena.allocate(8 * BATCH, 8);
        private final int fd;

        PageMap() {
            fd = (int) Host.syscall(Sys.OPEN.nr, arena.allocateFrom("/proc/self/pagemap").address(), 0x80000, 0);
        }

        /** Copies the pages of {@code from} that hold data into {@code to} (same size); all of them if pagemap is unreadable. */
        void copy(MemorySegment from, MemorySegment to) {
            long pages = from.byteSize() / PAGE, base = from.address() / PAGE;
            for (long p = 0; p < pages; p += BATCH) {
                long n = Math.min(BATCH, pages - p);
                long r = fd < 0 ? -1 : Host.syscall(Sys.PREAD64.nr, fd, entries.address(), 8 * n, 8 * (base + p), 0, 0);
                for (long i = 0; i < n; i++) {
                    if (r == 8 * n && (entries.getAtIndex(JAVA_LONG_UNALIGNED, i) & PRESENT_OR_SWAPPED) == 0) continue;
                    long off = (p + i) * PAGE;
                    MemorySegment.copy(from, off, to, off, PAGE);
                }
            }
        }

        @Override
        public void close() {
            if (fd >= 0) Host.syscall(Sys.CLOSE.nr, fd, 0, 0);
            arena.close();
        }
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
            if (newTop > TASK_SIZE || !isFree(oldTop, newTop - oldTop) || mapFixed(oldTop, newTop - oldTop, 3) < 0) return brk;
        } else if (newTop < oldTop) {
            unmap(newTop, oldTop - newTop);
        }
        brk = requested;
        return brk;
    }

    // ---- access ----
    //
    // Every guest address a syscall reads or writes comes through here: an address outside the guest's mappings,
    // or in pages whose protections forbid the access (PROT_NONE, a read into .text or .rodata), throws GuestFault,
    // which the syscall answers with EFAULT as Linux does. Lengths are bounded by the mappings they lie in before
    // anything is allocated. goemu's own accesses (the loader, the debugger) use load and peek.

    /** The mapping at addr if it allows the access (READ or WRITE), else GuestFault. */
    private Region regionAt(long addr, int access) {
        Region r = lastHit;
        if (r == null || addr < r.start || addr >= r.end) {
            Map.Entry<Long, Region> e = regions.floorEntry(addr);
            if (e == null || addr >= e.getValue().end) throw new GuestFault(addr);
            lastHit = r = e.getValue();
        }
        if (!r.allows(access)) throw new GuestFault(addr);
        return r;
    }

    /** The host memory behind [addr, addr+len) if it lies in one mapping allowing the access, else null. */
    public MemorySegment segment(long addr, long len, int access) {
        Region r = regionAt(addr, access);
        if (len > r.end - addr) return null;
        return r.host.asSlice(addr - r.start, len);
    }

    /** Guest memory for a syscall that reads it; len is the caller's own bound (a struct, a short string). */
    public byte[] read(long addr, int len) {
        return copyOut(addr, len, READ);
    }

    /** Guest memory whatever its protections, for goemu's tools (the debugger); GuestFault where nothing is mapped. */
    public byte[] peek(long addr, int len) {
        return copyOut(addr, len, 0);
    }

    private byte[] copyOut(long addr, int len, int access) {
        if (len < 0 || !accessOk(addr, len)) throw new GuestFault(addr);
        byte[] out = new byte[len];
        int done = 0;
        while (done < len) {
            Region r = regionAt(addr + done, access);
            int n = (int) Math.min(len - done, r.end - (addr + done));
            MemorySegment.copy(r.host, JAVA_BYTE, addr + done - r.start, out, done, n);
            done += n;
        }
        return out;
    }

    /** Stores into guest memory for a syscall: every byte must be writable. */
    public void write(long addr, byte[] data) {
        copyIn(addr, data, WRITE);
    }

    /** Stores into guest memory whatever its protections (/proc/self/mem, a debugger); GuestFault where nothing is mapped. */
    public void poke(long addr, byte[] data) {
        copyIn(addr, data, 0);
    }

    private void copyIn(long addr, byte[] data, int access) {
        if (!accessOk(addr, data.length)) throw new GuestFault(addr);
        int done = 0;
        while (done < data.length) {
            Region r = regionAt(addr + done, access);
            int n = (int) Math.min(data.length - done, r.end - (addr + done));
            MemorySegment.copy(data, done, r.host, JAVA_BYTE, addr + done - r.start, n);
            done += n;
        }
    }

    public long readLong(long addr) {
        Region r = regionAt(addr, READ);
        if (addr + 8 <= r.end) return r.host.get(JAVA_LONG_UNALIGNED, addr - r.start);
        return MemorySegment.ofArray(read(addr, 8)).get(JAVA_LONG_UNALIGNED, 0);
    }

    public void writeLong(long addr, long value) {
        Region r = regionAt(addr, WRITE);
        if (addr + 8 <= r.end) r.host.set(JAVA_LONG_UNALIGNED, addr - r.start, value);
        else {
            byte[] b = new byte[8];
            MemorySegment.ofArray(b).set(JAVA_LONG_UNALIGNED, 0, value);
            write(addr, b);
        }
    }

    public int readInt(long addr) {
        Region r = regionAt(addr, READ);
        if (addr + 4 <= r.end) return r.host.get(JAVA_INT_UNALIGNED, addr - r.start);
        return MemorySegment.ofArray(read(addr, 4)).get(JAVA_INT_UNALIGNED, 0);
    }

    public void writeInt(long addr, int value) {
        Region r = regionAt(addr, WRITE);
        if (addr + 4 <= r.end) r.host.set(JAVA_INT_UNALIGNED, addr - r.start, value);
        else {
            byte[] b = new byte[4];
            MemorySegment.ofArray(b).set(JAVA_INT_UNALIGNED, 0, value);
            write(addr, b);
        }
    }

    /** A NUL-terminated string, at most max bytes (the caller's bound: PATH_MAX, a thread name). */
    public String readCString(long addr, int max) {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[Math.min(max, 256)];
        for (int off = 0; off < max; ) {
            Region r = regionAt(addr + off, READ);
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
     * Guest memory [addr, addr+len) as one host pointer for a passed-through host call that reads (READ) or writes
     * (WRITE) it, or the longest accessible start of it: its {@link HostView#len} may be shorter, as Linux's copy
     * stops at the first bad page (read and write give the short count). The host never sees a byte beyond what
     * the guest may access. Direct when the range lies in one host allocation, else a bounce buffer of at most
     * {@link #BOUNCE_MAX}, copied in now and back by {@link HostView#copyBack}. GuestFault if not even the first
     * byte is accessible or the range leaves user space.
     */
    public HostView view(long addr, long len, int access, Arena arena) {
        if (addr == 0) return new HostView(0, len, null, 0, access, this); // the host's own EFAULT (or a NULL it accepts)
        if (!accessOk(addr, len)) throw new GuestFault(addr);
        if (len == 0) { // touches nothing: any pointer the host accepts
            Map.Entry<Long, Region> e = regions.floorEntry(addr);
            long host = e != null && addr < e.getValue().end ? e.getValue().hostAddr(addr) : 0;
            return new HostView(host, 0, null, addr, access, this);
        }
        Region first = regionAt(addr, access);
        long direct = first.end - addr, total = direct, end = addr + len;
        // Extend over the following mappings while they continue the range and allow the access.
        Region prev = first;
        while (total < len) {
            Map.Entry<Long, Region> e = regions.ceilingEntry(addr + total);
            if (e == null || e.getKey() != addr + total || !e.getValue().allows(access)) break;
            Region r = e.getValue();
            if (direct == total && r.host.address() == prev.hostAddr(prev.end)) direct += r.end - r.start;
            total += r.end - r.start;
            prev = r;
        }
        long n = Math.min(total, len);
        if (direct >= n || direct >= BOUNCE_MAX) {
            long d = Math.min(n, direct);
            return new HostView(first.hostAddr(addr), d, null, addr, access, this);
        }
        n = Math.min(n, BOUNCE_MAX);
        MemorySegment bounce = arena.allocate(n, 16);
        MemorySegment.copy(read(addr, (int) n), 0, bounce, JAVA_BYTE, 0, (int) n);
        return new HostView(bounce.address(), n, bounce, addr, access, this);
    }

    /** {@link #view} of a struct of a fixed size, which must be accessible as a whole, else GuestFault. */
    public HostView struct(long addr, long size, int access, Arena arena) {
        HostView v = view(addr, size, access, arena);
        if (v.len() < size && addr != 0) throw new GuestFault(addr + v.len());
        return v;
    }

    /**
     * A host pointer to len bytes of guest memory; {@link #copyBack} stores a bounce buffer back for a call that
     * writes guest memory, and is a no-op when the pointer is straight into guest memory.
     */
    public record HostView(long address, long len, MemorySegment bounce, long guest, int access, AddressSpace space) {
        public void copyBack() {
            if (bounce != null && access == WRITE) space.write(guest, bounce.toArray(JAVA_BYTE));
        }
    }
}
