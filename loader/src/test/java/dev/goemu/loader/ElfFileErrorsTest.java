package dev.goemu.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.goemu.loader.ProgramHeader.PF_R;
import static dev.goemu.loader.ProgramHeader.PF_W;
import static dev.goemu.loader.ProgramHeader.PF_X;
import static dev.goemu.loader.TinyElf.BASE;
import static dev.goemu.loader.TinyElf.SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every way a file can fail to be a runnable binary gives one exact, readable line. */
class ElfFileErrorsTest {
    private static final String STATIC_ONLY = "goemu runs static binaries only (build with CGO_ENABLED=0)";

    @TempDir
    Path dir;

    /** What Linux's execve refuses (ENOEXEC, EIO): goemu refuses it too, with a reason. */
    static Stream<Arguments> malformed() {
        return Stream.of(
                bad("i386", t -> t.u8(4, 1).u16(18, 3),
                        "ELF for Intel 80386 (machine 3, 32-bit), goemu runs x86-64 only"),
                bad("big-endian", t -> t.u8(5, 2).u16(18, Short.reverseBytes((short) 22)),
                        "ELF for IBM S/390 (machine 22, big-endian), goemu runs x86-64 only"),
                bad("aarch64", t -> t.u16(18, 183),
                        "ELF for ARM aarch64 (machine 183), goemu runs x86-64 only"),
                bad("unknown machine", t -> t.u16(18, 9999),
                        "ELF for an unknown machine (machine 9999), goemu runs x86-64 only"),
                bad("relocatable", t -> t.u16(16, ElfFile.ET_REL),
                        "relocatable object file (ET_REL), not an executable"),
                bad("core dump", t -> t.u16(16, ElfFile.ET_CORE),
                        "core dump (ET_CORE), not an executable"),
                bad("header cut short", t -> t.truncate(40),
                        "program header size is 0 bytes, expected 56 (the file is 40 bytes, shorter than the 64-byte ELF header)"),
                bad("program headers cut short", t -> t.load(0, PF_R | PF_X, 0, BASE, 0x40, 0x40)
                                .phdr(3, ProgramHeader.PT_NOTE, PF_R, 0, 0, 0, 0, 4).truncate(64 + 56 * 3 + 20),
                        "truncated ELF: the program headers at file offset 0x40 (4 of them) lie past the end of the file (252 bytes)"),
                bad("program headers past EOF", t -> t.u64(32, 0x10000),
                        "truncated ELF: the program headers at file offset 0x10000 (1 of them) lie past the end of the file (8192 bytes)"),
                bad("no program headers", t -> t.u16(56, 0),
                        "no program headers, so nothing to load"),
                bad("more than a page of program headers", t -> t.u16(56, 74),
                        "74 program headers; Linux reads at most 73"),
                bad("interpreter of one byte", t -> t.phdr(1, ProgramHeader.PT_INTERP, PF_R, 0x200, 0, 1, 1, 1),
                        "interpreter path (PT_INTERP) of 1 bytes; Linux needs 2 to 4096"),
                bad("interpreter without NUL", t -> t.phdr(1, ProgramHeader.PT_INTERP, PF_R, 0x200, 0, 4, 4, 1).string(0x200, "/ld.so"),
                        "interpreter path (PT_INTERP) is not NUL-terminated"));
    }

    /** What Linux accepts in execve and then kills the new process for (SIGSEGV): goemu reads it, with the reason. */
    static Stream<Arguments> killedAtExec() {
        return Stream.of(
                bad("file size above memory size", t -> t.load(0, PF_R | PF_X, 0, BASE, 0x2000, 0x1000),
                        "segment 0 (LOAD): file size 0x2000 is larger than its memory size 0x1000"),
                bad("address and offset disagree", t -> t.load(0, PF_R | PF_X, 0x10, BASE, 0x100, 0x100),
                        "segment 0 (LOAD): file offset 0x10 and address 0x400000 differ modulo the page size, so it cannot be mapped"),
                bad("ends at 2^47", t -> t.load(0, PF_R | PF_X, 0, 0x7ffffffff000L, 0x1000, 0x1000),
                        "segment 0 (LOAD) at 0x7ffffffff000 + 0x1000 bytes ends above the user address space (0x7ffffffff000)"),
                bad("huge offset", t -> t.load(0, PF_R | PF_X, 0x8000000000000000L, BASE, 0x100, 0x100),
                        "segment 0 (LOAD): file offset 0x8000000000000000 is beyond what a file can hold"),
                bad("entry above the user address space", t -> t.u64(24, 0xffff800000000000L),
                        "entry point 0xffff800000000000 lies above the user address space (0x7ffffffff000)"),
                bad("writable data ending in a page past EOF", t -> t.load(0, PF_R | PF_W, 0, BASE, 0x3800, 0x4000),
                        "segment 0 (LOAD): its file data ends past the end of the file, in a page Linux cannot clear"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("killedAtExec")
    void killedAtExecIsReadWithTheReason(String name, Consumer<TinyElf> breakIt, String reason) throws Exception {
        TinyElf elf = new TinyElf();
        breakIt.accept(elf);
        assertEquals(reason, ElfFile.read(elf.write(dir)).execFailure().orElseThrow());
    }

    /** What Linux ignores: ident bytes but the magic, e_version, p_align, overlaps, section headers. */
    static Stream<Arguments> ignored() {
        return Stream.of(
                ok("ELFCLASS32 byte", t -> t.u8(4, 1)),
                ok("big-endian byte", t -> t.u8(5, 2)),
                ok("ident version 0", t -> t.u8(6, 0)),
                ok("OS ABI", t -> t.u8(7, 97)),
                ok("e_version 0", t -> t.u32(20, 0)),
                ok("e_ehsize 0", t -> t.u16(52, 0)),
                ok("alignment not a power of two", t -> t.phdr(0, ProgramHeader.PT_LOAD, PF_R | PF_X, 0, BASE, 0x10, 0x10, 0x1800)),
                ok("overlapping segments", t -> t.load(1, PF_R | PF_W, 0, BASE + 0x2000, 0x100, 0x100)),
                ok("two segments' data in one page", t -> t.load(0, PF_R, 0, BASE, 0x100, 0x100)
                        .load(1, PF_R | PF_W, 0x800, BASE + 0x800, 0x100, 0x100)),
                ok("segment past EOF", t -> t.load(0, PF_R | PF_X, 0x1000, BASE + 0x1000, 0x2000, 0x2000)),
                ok("no PT_LOAD", t -> t.phdr(0, ProgramHeader.PT_NOTE, PF_R, 0, 0, 0, 0, 4)),
                ok("PT_DYNAMIC past EOF", t -> t.phdr(1, ProgramHeader.PT_DYNAMIC, PF_R, 0x7fff0000, 0, 0x100000, 0x100000, 8)));
    }

    private static Arguments ok(String name, Consumer<TinyElf> change) {
        return Arguments.of(name, change);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ignored")
    void whatLinuxIgnoresIsAccepted(String name, Consumer<TinyElf> change) throws Exception {
        TinyElf elf = new TinyElf();
        change.accept(elf);
        ElfFile read = ElfFile.read(elf.write(dir));
        assertTrue(read.execFailure().isEmpty(), () -> read.execFailure().get());
        assertTrue(read.isStatic());
    }

    static Stream<Arguments> badSections() {
        return Stream.of(
                bad("section headers past EOF", t -> t.u64(40, 0x9000).u16(60, 3),
                        "3 section headers at file offset 0x9000 lie past the end of the file"),
                bad("section headers cut short", t -> t.u64(40, SIZE - 64 * 2).u16(60, 3),
                        "3 section headers at file offset 0x1f80 lie past the end of the file"),
                bad("section header size", t -> t.u64(40, 0x1000).u16(60, 2).u16(58, 1),
                        "section header size is 1 bytes, expected 64"),
                bad("section name table out of range", t -> t.u64(40, 0x1000).u16(60, 2).u16(62, 5),
                        "section name table index 5 is out of range (2 sections)"),
                bad("section past EOF", t -> t.u64(40, 0x1000).u16(60, 2)
                                .u32(0x1040 + 4, Section.SHT_PROGBITS).u64(0x1040 + 24, 0x1f00).u64(0x1040 + 32, 0x200),
                        "section 1 at file offset 0x1f00 + 0x200 bytes lies past the end of the file"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSections")
    void badSectionHeadersOnlyCostTheSymbols(String name, Consumer<TinyElf> breakIt, String problem) throws Exception {
        TinyElf t = new TinyElf();
        breakIt.accept(t);
        ElfFile elf = ElfFile.read(t.write(dir));
        assertEquals(problem, elf.sectionsProblem().orElseThrow());
        assertTrue(elf.sections().isEmpty());
        assertTrue(elf.symbols().isEmpty());
        assertTrue(elf.execFailure().isEmpty());
    }

    private static Arguments bad(String name, Consumer<TinyElf> breakIt, String message) {
        return Arguments.of(name, breakIt, message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedBinaryGivesOneClearLine(String name, Consumer<TinyElf> breakIt, String message) throws IOException {
        TinyElf elf = new TinyElf();
        breakIt.accept(elf);
        Path p = elf.write(dir);
        assertEquals(p + ": " + message, assertThrows(BadBinaryException.class, () -> ElfFile.read(p)).getMessage());
    }

    @Test
    void emptyFile() throws IOException {
        Path p = Files.createFile(dir.resolve("empty"));
        assertEquals(p + ": not an ELF file (empty file)", error(p));
    }

    @Test
    void badMagic() throws IOException {
        Path p = Files.writeString(dir.resolve("text"), "hello, world\n");
        assertEquals(p + ": not an ELF file (bad magic)", error(p));
    }

    @Test
    void script() throws IOException {
        Path p = Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\necho hi\n");
        assertEquals(p + ": not an ELF file (a #! script)", error(p));
    }

    @Test
    void directory() {
        assertEquals(dir + ": is a directory", error(dir));
    }

    @Test
    void missingFile() {
        Path p = dir.resolve("nope");
        assertEquals("no such file: " + p, error(p));
    }

    @Test
    void interpreterMakesItDynamic() throws Exception {
        String ld = "/lib64/ld-linux-x86-64.so.2";
        Path p = new TinyElf()
                .phdr(0, ProgramHeader.PT_INTERP, PF_R, 0x200, BASE + 0x200, ld.length() + 1, ld.length() + 1, 1)
                .load(1, PF_R | PF_X, 0, BASE, SIZE, SIZE)
                .string(0x200, ld)
                .write(dir);
        ElfFile elf = ElfFile.read(p);
        assertEquals(ld, elf.interpreter().orElseThrow());
        assertFalse(elf.isStatic());
        assertEquals(p + ": dynamically linked (interpreter " + ld + "); " + STATIC_ONLY,
                assertThrows(BadBinaryException.class, elf::requireStaticExecutable).getMessage());
    }

    @Test
    void neededLibraryWithoutInterpreterIsDynamicToo() throws Exception {
        Path p = new TinyElf()
                .phdr(1, ProgramHeader.PT_DYNAMIC, PF_R | PF_W, 0x300, BASE + 0x300, 48, 48, 8)
                .u64(0x300, 1).u64(0x308, 1) // DT_NEEDED: string 1
                .u64(0x310, 5).u64(0x318, BASE + 0x400) // DT_STRTAB
                .string(0x401, "libc.so.6")
                .write(dir);
        ElfFile elf = ElfFile.read(p);
        assertFalse(elf.isStatic());
        assertEquals(p + ": dynamically linked (needs libc.so.6); " + STATIC_ONLY,
                assertThrows(BadBinaryException.class, elf::requireStaticExecutable).getMessage());
    }

    @Test
    void hostLsIsDynamicallyLinked() throws Exception {
        Path ls = Path.of("/bin/ls");
        assumeTrue(Files.isRegularFile(ls) && System.getProperty("os.arch").equals("amd64"), "needs an x86-64 /bin/ls");
        ElfFile elf = ElfFile.read(ls);
        assertFalse(elf.isStatic());
        assertEquals("/bin/ls: dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2); " + STATIC_ONLY,
                assertThrows(BadBinaryException.class, elf::requireStaticExecutable).getMessage());
    }

    private static String error(Path p) {
        return assertThrows(BadBinaryException.class, () -> ElfFile.read(p)).getMessage();
    }
}
