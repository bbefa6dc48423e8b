package dev.goemu.emulator;

import dev.goemu.loader.Auxv;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.InitialStack;
import dev.goemu.loader.LoadSegment;
import dev.goemu.syscalls.AddressSpace;
import dev.goemu.syscalls.Kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Puts a static ELF into a fresh address space the way Linux's execve does: segments, break, initial stack. */
final class ProcessImage {
    /** Top of the main thread's stack, as high as Linux puts it (no randomisation: runs are reproducible). */
    static final long STACK_TOP = 0x7ffffffff000L;
    static final long STACK_SIZE = 8L << 20;
    private static final long HWCAP_X86_64 = 0x178bfbffL; // CPUID.1:EDX of a plain x86-64 CPU, as Linux reports it

    /** Where execution starts and with which stack pointer; what /proc/self shows of the image. */
    record Entry(long pc, long sp, Kernel.ImageLayout layout) {}

    private ProcessImage() {}

    static Entry load(ElfFile elf, AddressSpace mem, List<String> argv, List<String> envp) {
        for (LoadSegment s : elf.loadSegments(0)) {
            mem.mapFixed(s.start(), s.end() - s.start(), s.perms());
            if (s.fileSize() > 0) mem.load(s.vaddr(), elf.bytes(s.fileOffset(), (int) s.fileSize()));
        }
        mem.initBreak(elf.programBreak(0));
        mem.mapFixed(STACK_TOP - STACK_SIZE, STACK_SIZE, 3);
        byte[] random = randomBytes(16);
        long uid = unixId("uid"), gid = unixId("gid");
        Auxv auxv = Auxv.forBinary(elf, 0, uid, uid, gid, gid, HWCAP_X86_64);
        String execfn = argv.isEmpty() ? elf.path().toString() : argv.getFirst();
        InitialStack stack = InitialStack.build(STACK_TOP, argv, envp, execfn, auxv, random);
        mem.write(stack.base(), stack.bytes());
        Kernel.ImageLayout layout = new Kernel.ImageLayout(stack.argStart(), stack.envStart(), stack.envEnd(),
                stack.auxv(), STACK_TOP, elf.loadSegments(0));
        return new Entry(elf.entry(), stack.sp(), layout);
    }

    /** AT_RANDOM's bytes, from the kernel's own source (SecureRandom's provider set-up cost start-up ~10 ms). */
    private static byte[] randomBytes(int n) {
        try (InputStream in = Files.newInputStream(Path.of("/dev/urandom"))) {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
