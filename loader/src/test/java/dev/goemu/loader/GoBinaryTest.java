package dev.goemu.loader;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static dev.goemu.loader.LoadSegment.EXEC;
import static dev.goemu.loader.LoadSegment.READ;
import static dev.goemu.loader.LoadSegment.WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Reads a real static Go binary, built by the test with the Go toolchain on this machine. */
class GoBinaryTest {
    private static final Path OUT = Path.of("target", "go-test");
    private static ElfFile elf;

    @BeforeAll
    static void buildHello() throws Exception {
        Optional<Path> go = findGo();
        assumeTrue(go.isPresent(), "needs the go toolchain on PATH");
        Files.createDirectories(OUT);
        Path src = Files.writeString(OUT.resolve("hello.go"), """
                package main

                import "fmt"

                func main() { fmt.Println("hello") }
                """);
        Path bin = OUT.resolve("hello");
        ProcessBuilder pb = new ProcessBuilder(go.get().toString(), "build", "-o", bin.toString(), src.toString())
                .redirectErrorStream(true);
        pb.environment().putAll(Map.of("CGO_ENABLED", "0", "GOOS", "linux", "GOARCH", "amd64", "GOTOOLCHAIN", "local"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "go build failed:\n" + output);
        elf = ElfFile.read(bin);
    }

    private static Optional<Path> findGo() {
        return Stream.concat(
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).map(d -> Path.of(d, "go")),
                        Stream.of(Path.of("/usr/local/go/bin/go")))
                .filter(Files::isExecutable)
                .findFirst();
    }

    @Test
    void staticExecutableEnteringAtRt0() throws BadBinaryException {
        assertEquals(ElfFile.ET_EXEC, elf.type());
        assertTrue(elf.isStatic());
        assertTrue(elf.interpreter().isEmpty());
        elf.requireStaticExecutable();
        assertEquals(elf.symbols().lookup("_rt0_amd64_linux").orElseThrow().value(), elf.entry());
    }

    @Test
    void sectionsAreNamed() {
        List<String> names = elf.sections().stream().map(Section::name).toList();
        assertTrue(names.containsAll(List.of(".text", ".rodata", ".gopclntab", ".noptrdata", ".data", ".bss")), names.toString());
        Section text = elf.section(".text").orElseThrow();
        assertEquals("PROGBITS", text.typeName());
        assertEquals("AX", text.flagsString());
        assertTrue(text.addr() <= elf.entry() && elf.entry() < text.addr() + text.size());
        assertEquals("WA", elf.section(".data").orElseThrow().flagsString());
        assertEquals("NOBITS", elf.section(".bss").orElseThrow().typeName());
        assertTrue(elf.section(".nothing").isEmpty());
        for (int i = 0; i < elf.sections().size(); i++) assertEquals(i, elf.sections().get(i).index());
    }

    @Test
    void loadSegmentsCoverTheAllocatedSections() throws IOException {
        List<LoadSegment> segs = elf.loadSegments(0);
        long fileSize = Files.size(elf.path());
        long prevEnd = 0;
        for (LoadSegment s : segs) {
            assertEquals(0, s.start() % 4096, s.toString());
            assertEquals(0, s.end() % 4096, s.toString());
            assertTrue(s.start() >= prevEnd && s.end() > s.start(), "sorted and disjoint: " + segs);
            assertTrue(s.fileOffset() + s.fileSize() <= fileSize);
            assertTrue(s.fileSize() <= s.end() - s.start() && !s.pastEndOfFile(), s.toString());
            assertTrue(s.end() <= ElfFile.TASK_SIZE);
            prevEnd = s.end();
        }
        assertEquals(READ | EXEC, containing(segs, elf.entry()).perms());
        assertEquals(READ, containing(segs, elf.section(".rodata").orElseThrow().addr()).perms());
        assertEquals(READ | WRITE, containing(segs, elf.section(".data").orElseThrow().addr()).perms());
        long allocEnd = 0;
        for (Section s : elf.sections()) {
            if ((s.flags() & Section.SHF_ALLOC) == 0) continue;
            // Mapped end to end (.data's file pages and its bss are two entries).
            for (long at = s.addr(); at < s.addr() + s.size(); at = containing(segs, at).end()) { }
            allocEnd = Math.max(allocEnd, s.addr() + s.size());
        }
        assertEquals((allocEnd + 4095) & -4096, elf.programBreak(0), "brk starts after .bss/.noptrbss");
        assertEquals(List.of("R E", "R  ", "RW "), elf.programHeaders().stream()
                .filter(ph -> ph.type() == ProgramHeader.PT_LOAD).map(ProgramHeader::flagsString).toList());
    }

    @Test
    void segmentBytesAreTheCode() {
        // _rt0_amd64_linux is a single JMP rel32 to _rt0_amd64.
        LoadSegment text = containing(elf.loadSegments(0), elf.entry());
        assertEquals((byte) 0xe9, elf.bytes(text.fileOffset() + (elf.entry() - text.start()), 1)[0]);
    }

    @Test
    void programHeadersAreMappedWhereAtPhdrSays() {
        long phoff = ByteBuffer.wrap(elf.bytes(32, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ProgramHeader phdr = elf.programHeaders().stream().filter(ph -> ph.type() == ProgramHeader.PT_PHDR).findFirst().orElseThrow();
        assertEquals(phdr.vaddr(), elf.phdrVaddr());
        LoadSegment seg = containing(elf.loadSegments(0), elf.phdrVaddr());
        assertEquals(phoff, seg.fileOffset() + (elf.phdrVaddr() - seg.start()));
        assertEquals(56, elf.phentsize());
        assertEquals(elf.programHeaders().size(), elf.phnum());
    }

    @Test
    void symbolsByNameAndAddress() {
        SymbolTable symbols = elf.symbols();
        assertFalse(symbols.isEmpty());
        for (String name : List.of("runtime.main", "main.main")) {
            Symbol s = symbols.lookup(name).orElseThrow();
            assertEquals(Symbol.STT_FUNC, s.type());
            assertTrue(s.size() > 0);
            assertEquals(s, symbols.containing(s.value()).orElseThrow());
            assertEquals(s, symbols.containing(s.value() + s.size() - 1).orElseThrow());
            assertEquals(s, symbols.containing(s.value() + s.size() / 2).orElseThrow());
        }
        // runtime.text has no size and shares its address with the first real function: the sized one wins.
        Symbol first = symbols.containing(elf.section(".text").orElseThrow().addr()).orElseThrow();
        assertTrue(first.size() > 0, first.toString());
        assertTrue(symbols.containing(0x1000).isEmpty());
        assertTrue(symbols.lookup("no.such.symbol").isEmpty());
    }

    private static LoadSegment containing(List<LoadSegment> segs, long address) {
        return segs.stream().filter(s -> s.start() <= address && address < s.end()).findFirst().orElseThrow();
    }

    @Test
    void bytesAtReadsWhatTheImageHoldsAtAnAddress() {
        Section text = elf.section(".text").orElseThrow();
        assertArrayEquals(elf.bytes(text.offset(), 16), elf.bytesAt(text.addr(), 16).orElseThrow());
        Section bss = elf.section(".bss").orElseThrow();
        assertArrayEquals(new byte[32], elf.bytesAt(bss.addr(), 32).orElseThrow(), "bss reads as zeros");
        assertTrue(elf.bytesAt(0x1000, 8).isEmpty(), "below the image");
        assertTrue(elf.sectionsProblem().isEmpty());
        assertTrue(elf.execFailure().isEmpty());
    }
}
