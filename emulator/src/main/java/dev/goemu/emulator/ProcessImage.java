package dev.goemu.emulator;

import dev.goemu.loader.Auxv;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.InitialStack;
import dev.goemu.loader.LoadSegment;
import dev.goemu.syscalls.AddressSpace;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Puts a static ELF into a fresh address space the way Linux's execve does: segments, break, initial stack. */
final class ProcessImage {
    /** Top of the main thread's stack, as high as Linux puts it (no randomisation: runs are reproducible). */
    static final long STACK_TOP = 0x7ffffffff000L;
    static final long STACK_SIZE = 8L << 20;
    private static final long HWCAP_X86_64 = 0x178bfbffL; // CPUID.1:EDX of a plain x86-64 CPU, as Linux reports it

    /** Where execution starts and with which stack pointer. */
    record Entry(long pc, long sp) {}

    private ProcessImage() {}

    /** @param random AT_RANDOM's 16 bytes (the kernel's: the host's, or the seed's in deterministic mode) */
    static Entry load(ElfFile elf, AddressSpace mem, List<String> argv, List<String> envp, byte[] random) {
        for (LoadSegment s : elf.loadSegments(0)) {
            mem.mapFixed(s.start(), s.end() - s.start(), s.perms());
            if (s.fileSize() > 0) mem.load(s.vaddr(), elf.bytes(s.fileOffset(), (int) s.fileSize()));
        }
        mem.initBreak(elf.programBreak(0));
        mem.mapFixed(STACK_TOP - STACK_SIZE, STACK_SIZE, 3);
        long uid = unixId("uid"), gid = unixId("gid");
        Auxv auxv = Auxv.forBinary(elf, 0, uid, uid, gid, gid, HWCAP_X86_64);
        String execfn = argv.isEmpty() ? elf.path().toString() : argv.getFirst();
        InitialStack stack = InitialStack.build(STACK_TOP, argv, envp, execfn, auxv, random);
        mem.write(stack.base(), stack.bytes());
        return new Entry(elf.entry(), stack.sp());
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
