package dev.goemu.syscalls;

import dev.goemu.loader.LoadSegment;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ProcSelfTest {
    private static final String EXE = "/work/bin/guest";

    private static AddressSpace.Mapping m(long start, long end, int perms, AddressSpace.Kind kind, long image) {
        return new AddressSpace.Mapping(start, end, perms, kind, image);
    }

    @Test
    void mapsNamesTheBinarysSegmentsSplitsBssAndMergesAnonymousNeighbours() {
        // A Go binary's layout: text (r-x), rodata (r--), data whose bss runs past its file pages.
        List<LoadSegment> segments = List.of(
                new LoadSegment(0x400000, 0x4ac000, 5, 0, 0xab123, false),
                new LoadSegment(0x4ac000, 0x58f000, 1, 0xac000, 0xe2f00, false),
                new LoadSegment(0x58f000, 0x5d0000, 3, 0x18f000, 0xa123, false));
        Kernel.ImageLayout layout = new Kernel.ImageLayout(0, 0, 0, new long[] {0, 0}, 0x7ffffffff000L, segments);
        AddressSpace.Kind p = AddressSpace.Kind.PRIVATE;
        List<AddressSpace.Mapping> mappings = List.of(
                m(0x400000, 0x4ac000, 5, p, 0xab123),
                m(0x4ac000, 0x58f000, 1, p, 0xe2f00),
                m(0x58f000, 0x5d0000, 3, p, 0xa123),
                m(0x5d0000, 0x5d2000, 3, p, 0),                      // the heap (brk)
                m(0xc000000000L, 0xc000400000L, 3, p, 0),            // two arena pieces: one line
                m(0xc000400000L, 0xc000800000L, 3, p, 0),
                m(0xc000800000L, 0xc004000000L, 0, p, 0),
                m(0x7f0000000000L, 0x7f0000001000L, 3, AddressSpace.Kind.SHARED_ANON, 0),
                m(0x7ffff7fff000L, 0x7ffffffff000L, 3, p, 0));
        String maps = ProcSelf.maps(mappings, layout, EXE, new long[] {0xfe00, 1234}, 0x5d0000, 0x5d1800);
        assertEquals(String.join("\n",
                named("00400000-004ac000 r-xp 00000000 fe:00 1234 ", EXE),
                named("004ac000-0058f000 r--p 000ac000 fe:00 1234 ", EXE),
                named("0058f000-0059a000 rw-p 0018f000 fe:00 1234 ", EXE),
                "0059a000-005d0000 rw-p 00000000 00:00 0 ",
                named("005d0000-005d2000 rw-p 00000000 00:00 0 ", "[heap]"),
                "c000000000-c000800000 rw-p 00000000 00:00 0 ",
                "c000800000-c004000000 ---p 00000000 00:00 0 ",
                "7f0000000000-7f0000001000 rw-s 00000000 00:00 0 ",
                named("7ffff7fff000-7ffffffff000 rw-p 00000000 00:00 0 ", "[stack]"),
                ""), maps);
        for (String line : maps.split("\n")) {
            if (line.endsWith(EXE)) assertEquals(73, line.indexOf(EXE), "the name starts at column 73: " + line);
        }
    }

    /** Linux pads a named line's head to 72 columns and a space: the name starts at column 73. */
    private static String named(String head, String name) {
        return head + " ".repeat(72 - head.length()) + " " + name;
    }

    @Test
    void onlyThisProcesssEntriesAreTranslated() {
        TestKernel tk = new TestKernel();
        ProcSelf proc = tk.kernel.proc;
        assertEquals("/etc/passwd", proc.hostPath("/etc/passwd"));
        assertEquals("/proc/cpuinfo", proc.hostPath("/proc/cpuinfo"));
        for (String p : List.of("/proc/self/maps", "//proc/./self/maps", "/tmp/../proc/self/maps", "/proc/" + tk.kernel.pid + "/maps")) {
            String h = proc.hostPath(p);
            assertTrue(h.contains("goemu-proc-") && h.endsWith("/" + tk.kernel.pid + "/maps"), p + " -> " + h);
        }
        assertEquals("/proc/" + ProcSelf.JVM_PID + "/mountinfo", proc.hostPath("/proc/self/mountinfo"), "process-wide: the host's");
        assertFalse(new java.io.File(proc.hostPath("/proc/self/pagemap")).exists(), "other entries do not exist");
        assertFalse(new java.io.File(proc.hostPath("/proc/self/fd/77")).exists(), "no such guest fd");
    }

    @Test
    void memReadsAndWritesGuestMemoryWhateverItsProtectionsAndFailsWithEioWhereUnmapped() {
        TestKernel tk = new TestKernel();
        long ro = 0x20000000L, buf = TestKernel.SCRATCH;
        tk.memory.mapFixed(ro, 4096, 3);
        tk.memory.writeLong(ro, 0x1122334455667788L);
        tk.memory.protect(ro, 4096, 1);
        ProcSelf proc = tk.kernel.proc;
        assertEquals(8, proc.readMem(ro, buf, 8));
        assertEquals(0x1122334455667788L, tk.memory.readLong(buf));
        tk.memory.writeLong(buf, 42);
        assertEquals(8, proc.writeMem(ro, buf, 8), "a read-only page is written, as Linux's forced access does");
        assertEquals(42, tk.memory.readLong(ro));
        assertEquals(-Errno.EIO, proc.readMem(0x1000, buf, 8));
        assertEquals(4096 - 8, proc.readMem(ro + 8, buf, 1 << 20), "stops where the mapping ends");
        assertEquals(-Errno.EIO, proc.readMem(-4096, buf, 8), "offsets past user space");
        assertEquals(-Errno.EFAULT, proc.readMem(ro, 0x1000, 8), "a bad guest buffer");
    }

    @Test
    void anOpenThatReachesTheJvmsProcAnotherWayIsRedoneForTheGuest() {
        TestKernel tk = new TestKernel(); // the root guest: its pid is the JVM's
        try (Arena arena = Arena.ofConfined()) {
            long h = Host.syscall(Sys.OPENAT.nr, -100, arena.allocateFrom("/proc/" + ProcSelf.JVM_PID + "/mem").address(), 0, 0, 0, 0);
            assertTrue(h >= 0);
            long fd = tk.kernel.fds.install(tk.kernel.proc.vetOpen(h, 0, 0));
            assertTrue(fd >= 0);
            assertEquals(ProcSelf.MEM, tk.kernel.fds.procKind((int) fd), "the guest's mem, not the JVM's");
            tk.kernel.fds.close((int) fd);
        }
    }
}
