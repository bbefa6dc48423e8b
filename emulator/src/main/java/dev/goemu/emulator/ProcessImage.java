package dev.goemu.emulator;

import dev.goemu.loader.Auxv;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.InitialStack;
import dev.goemu.loader.LoadSegment;
import dev.goemu.syscalls.AddressSpace;
import dev.goemu.syscalls.Host;
import dev.goemu.syscalls.Kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Puts a static ELF into a fresh address space the way Linux's execve does: segments, break, initial stack. What
 * would make Linux kill the new process (see {@link ElfFile#execFailure()}, and the host's limits: mmap_min_addr,
 * overcommit) throws {@link GuestCrash}.
 */
final class ProcessImage {
    /** Top of the main thread's stack, as high as Linux puts it (no randomisation: runs are reproducible). */
    static final long STACK_TOP = 0x7ffffffff000L;
    static final long STACK_SIZE = 8L << 20;
    private static final long HWCAP_X86_64 = 0x178bfbffL; // CPUID.1:EDX of a plain x86-64 CPU, as Linux reports it

    /**
     * Where execution starts and with which stack pointer; what /proc/self shows of the image.
     */
    record Entry(long pc, long sp, Kernel.ImageLayout layout) {}

    private ProcessImage() {}

    /** @param random AT_RANDOM's 16 bytes (the kernel's: the host's, or the seed's in deterministic mode) */
    static Entry load(ElfFile elf, AddressSpace mem, List<String> argv, List<String> envp, byte[] random) {
        long minAddr = procLong("/proc/sys/vm/mmap_min_addr", 65536);
        long bias = elf.type() == ElfFile.ET_DYN ? dynamicBias(elf, mem, minAddr) : 0;
        List<LoadSegment> segments = elf.loadSegments(bias);
        checkHostLimits(elf, segments, minAddr);
        for (LoadSegment s : segments) {
            if (mem.mapFixed(s.start(), s.end() - s.start(), s.pastEndOfFile() ? 0 : s.perms()) < 0) {
                // the host refused even lazy pages
                throw GuestCrash.atExec(elf, String.format("cannot map 0x%x bytes at 0x%x (ENOMEM)", s.end() - s.start(), s.start()));
            }
            if (s.pastEndOfFile()) mem.markPastEof(s.start(), s.end() - s.start());
            if (s.fileSize() > 0) mem.load(s.start(), elf.bytes(s.fileOffset(), (int) s.fileSize()));
        }
        mem.initBreak(elf.programBreak(bias));
        mem.mapFixed(STACK_TOP - STACK_SIZE, STACK_SIZE, 3);
        long uid = unixId("uid"), gid = unixId("gid");
        Auxv auxv = Auxv.forBinary(elf, bias, uid, uid, gid, gid, HWCAP_X86_64);
        String execfn = argv.isEmpty() ? elf.path().toString() : argv.getFirst();
        InitialStack stack = InitialStack.build(STACK_TOP, argv, envp, execfn, auxv, random);
        mem.write(stack.base(), stack.bytes());
        Kernel.ImageLayout layout = new Kernel.ImageLayout(stack.argStart(), stack.envStart(), stack.envEnd(),
                stack.auxv(), STACK_TOP, segments);
        return new Entry(elf.entry() + bias, stack.sp(), layout);
    }

    /**
     * Where Linux puts an ET_DYN without interpreter: its first segment's address is 0, so mmap picks the place
     * (top-down, as for any mapping without a hint); the image's own addresses only matter relative to each other.
     */
    private static long dynamicBias(ElfFile elf, AddressSpace mem, long minAddr) {
        long at = mem.chooseAddress(0, elf.loadSize());
        long bias = at < 0 ? at : elf.biasFor(at);
        if (at < 0 || !elf.fitsAt(bias, minAddr)) {
            throw GuestCrash.atExec(elf, String.format("no room for its 0x%x bytes (ENOMEM)", elf.loadSize()));
        }
        return bias;
    }

    /** Linux's mmap refuses pages below vm.mmap_min_addr, and its overcommit heuristic a bss larger than RAM + swap. */
    private static void checkHostLimits(ElfFile elf, List<LoadSegment> segments, long minAddr) {
        if (segments.isEmpty()) return;
        if (segments.getFirst().start() < minAddr) {
            throw GuestCrash.atExec(elf, String.format("a segment maps 0x%x, below vm.mmap_min_addr (0x%x)",
                    segments.getFirst().start(), minAddr));
        }
        for (LoadSegment s : segments) {
            long size = s.end() - s.start();
            // Linux commits a bss as an anonymous mapping: the host's own overcommit policy answers.
            if (s.fileSize() == 0 && !s.pastEndOfFile() && !Host.canCommit(size)) {
                throw GuestCrash.atExec(elf, String.format(
                        "a bss of 0x%x bytes at 0x%x is more than the host lets a process commit (ENOMEM)", size, s.start()));
            }
        }
    }

    private static long procLong(String file, long fallback) {
        try {
            return Long.parseLong(Files.readString(Path.of(file)).trim());
        } catch (IOException | NumberFormatException e) {
            return fallback;
        }
    }

    private static long unixId(String attr) {
        try {
            Object v = Files.getAttribute(Path.of("/proc/self"), "unix:" + attr);
            return ((Number) v).longValue();
        } catch (Exception e) {
            return 0;
        }
    }
}
