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
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every way a file can fail to be a runnable binary gives one exact, readable line. */
class ElfFileErrorsTest {
    private static final String STATIC_ONLY = "goemu runs static binaries only (build with CGO_ENABLED=0)";

    @TempDir
    Path dir;

    static Stream<Arguments> malformed() {
        return Stream.of(
                bad("32-bit", t -> t.u8(4, 1),
                        "32-bit ELF (ELFCLASS32); goemu runs 64-bit x86-64 binaries only"),
                bad("big-endian", t -> t.u8(5, 2),
                        "big-endian ELF; goemu runs little-endian x86-64 binaries only"),
                bad("ident version", t -> t.u8(6, 0),
                        "unsupported ELF version 0 (expected 1)"),
                bad("aarch64", t -> t.u16(18, 183),
                        "ELF for ARM aarch64 (machine 183), goemu runs x86-64 only"),
                bad("unknown machine", t -> t.u16(18, 9999),
                        "ELF for an unknown machine (machine 9999), goemu runs x86-64 only"),
                bad("relocatable", t -> t.u16(16, ElfFile.ET_REL),
                        "relocatable object file (ET_REL), not an executable"),
                bad("core dump", t -> t.u16(16, ElfFile.ET_CORE),
                        "core dump (ET_CORE), not an executable"),
                bad("header cut short", t -> t.truncate(40),
                        "truncated ELF: the file is 40 bytes, shorter than the 64-byte ELF header"),
                bad("program headers cut short", t -> t.load(0, PF_R | PF_X, 0, BASE, 0x40, 0x40)
                                .phdr(3, ProgramHeader.PT_NOTE, PF_R, 0, 0, 0, 0, 4).truncate(64 + 56 * 3 + 20),
                        "truncated ELF: program header 3 lies past the end of the file"),
                bad("program headers past EOF", t -> t.u64(32, 0x10000),
                        "truncated ELF: program headers start at 0x10000, past the end of the file (8192 bytes)"),
                bad("segment past EOF", t -> t.load(0, PF_R | PF_X, 0x1000, BASE + 0x1000, 0x2000, 0x2000),
                        "truncated ELF: segment 0 (LOAD) at file offset 0x1000 + 0x2000 bytes lies past the end of the file (8192 bytes)"),
                bad("no program headers", t -> t.u16(56, 0),
                        "no program headers, so nothing to load"),
                bad("no PT_LOAD", t -> t.phdr(0, ProgramHeader.PT_NOTE, PF_R, 0, 0, 0, 0, 4),
                        "no loadable segments (PT_LOAD), so nothing to run"),
                bad("file size above memory size", t -> t.load(0, PF_R | PF_X, 0, BASE, 0x2000, 0x1000),
                        "segment 0 (LOAD): file size 0x2000 is larger than its memory size 0x1000"),
                bad("alignment not a power of two", t -> t.phdr(0, ProgramHeader.PT_LOAD, PF_R, 0, BASE, 0x10, 0x10, 0x1800),
                        "segment 0 (LOAD): alignment 0x1800 is not a power of two"),
                bad("address and offset disagree", t -> t.load(0, PF_R | PF_X, 0x10, BASE, 0x100, 0x100),
                        "segment 0 (LOAD): address 0x400000 and file offset 0x10 differ modulo its alignment 0x1000"),
                bad("above 2^47", t -> t.load(0, PF_R | PF_X, 0, 0x7ffffffff000L, 0x2000, 0x2000),
                        "segment 0 (LOAD) at 0x7ffffffff000 + 0x2000 bytes ends above 0x800000000000, the top of the 47-bit user address space"),
                bad("overlapping segments", t -> t.load(1, PF_R | PF_W, 0, BASE + 0x2000, 0x100, 0x100),
                        "segment 1 (LOAD) at 0x402000 overlaps or comes before segment 0 (LOAD), which ends at 0x403000"),
                bad("two segments' data in one page", t -> t.load(0, PF_R, 0, BASE, 0x100, 0x100)
                                .load(1, PF_R | PF_W, 0x800, BASE + 0x800, 0x100, 0x100),
                        "segments 0 and 1 (LOAD) both have file data in the page at 0x400000; goemu cannot load that layout"),
                bad("section headers past EOF", t -> t.u64(40, 0x9000).u16(60, 3),
                        "truncated ELF: section headers start at 0x9000, past the end of the file (8192 bytes)"),
                bad("section headers cut short", t -> t.u64(40, SIZE - 64 * 2).u16(60, 3),
                        "truncated ELF: section header 2 lies past the end of the file"),
                bad("section name table out of range", t -> t.u64(40, 0x1000).u16(60, 2).u16(62, 5),
                        "section name table index 5 is out of range (2 sections)"),
                bad("section past EOF", t -> t.u64(40, 0x1000).u16(60, 2)
                                .u32(0x1040 + 4, Section.SHT_PROGBITS).u64(0x1040 + 24, 0x1f00).u64(0x1040 + 32, 0x200),
                        "truncated ELF: section 1 at file offset 0x1f00 + 0x200 bytes lies past the end of the file (8192 bytes)"));
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
