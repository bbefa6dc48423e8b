package dev.goemu.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static dev.goemu.loader.LoadSegment.EXEC;
import static dev.goemu.loader.LoadSegment.READ;
import static dev.goemu.loader.LoadSegment.WRITE;
import static dev.goemu.loader.ProgramHeader.PF_R;
import static dev.goemu.loader.ProgramHeader.PF_W;
import static dev.goemu.loader.ProgramHeader.PF_X;
import static dev.goemu.loader.TinyElf.BASE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Page layout of PT_LOAD segments as Linux maps them, on hand-made binaries. */
class LoadSegmentsTest {
    @TempDir
    Path dir;

    private static LoadSegment seg(long start, long end, int perms, long fileOffset, long fileSize) {
        return new LoadSegment(start, end, perms, fileOffset, fileSize, false);
    }

    @Test
    void oneSegmentWithBss() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().write(dir));
        // The bss beyond the last file page is mapped read-write, whatever the segment's flags (vm_brk_flags).
        assertEquals(List.of(seg(BASE, BASE + 0x2000, READ | EXEC, 0, 0x2000), seg(BASE + 0x2000, BASE + 0x3000, READ | WRITE | EXEC, 0, 0)),
                elf.loadSegments(0));
        assertEquals(BASE + 0x3000, elf.programBreak(0));
        assertEquals(BASE + 0x1000, elf.entry());
        assertEquals(BASE + 0x40, elf.phdrVaddr(), "found through the PT_LOAD that holds e_phoff");
        assertTrue(elf.sections().isEmpty());
        assertTrue(elf.symbols().isEmpty());
        assertTrue(elf.isStatic());
        assertEquals(Optional.empty(), elf.execFailure());
    }

    @Test
    void positionIndependentBinaryMovesByTheBias() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().u16(16, ElfFile.ET_DYN).u64(24, 0x1000)
                .load(0, PF_R | PF_X, 0, 0, 0x2000, 0x2000).write(dir));
        long bias = 0x555555554000L;
        assertEquals(List.of(seg(bias, bias + 0x2000, READ | EXEC, 0, 0x2000)), elf.loadSegments(bias));
        assertEquals(bias + 0x2000, elf.programBreak(bias));
        assertThrows(IllegalArgumentException.class, () -> elf.loadSegments(0x123));
        assertThrows(IllegalArgumentException.class, () -> elf.loadSegments(ElfFile.USER_LIMIT - 0x1000));
    }

    @Test
    void laterSegmentTakesTheSharedPageAndWritableDataIsZeroedPastItsFileSize() throws Exception {
        // Code to 0x401800, data from 0x401800: the page at 0x401000 is the data's (MAP_FIXED), file bytes up to
        // 0x401900 and zeros after them (padzero), then the bss.
        ElfFile elf = ElfFile.read(new TinyElf()
                .load(0, PF_R | PF_X, 0, BASE, 0x1800, 0x1800)
                .load(1, PF_R | PF_W, 0x1800, BASE + 0x1800, 0x100, 0x2000)
                .write(dir));
        assertEquals(List.of(
                seg(BASE, BASE + 0x1000, READ | EXEC, 0, 0x1000),
                seg(BASE + 0x1000, BASE + 0x2000, READ | WRITE, 0x1000, 0x900),
                seg(BASE + 0x2000, BASE + 0x4000, READ | WRITE, 0, 0)),
                elf.loadSegments(0));
        assertEquals(BASE + 0x4000, elf.programBreak(0));
    }

    @Test
    void readOnlySegmentKeepsTheFileBytesOfItsLastPage() throws Exception {
        // Linux's clear_user fails quietly on a page that is not writable: the bytes after p_filesz stay.
        ElfFile elf = ElfFile.read(new TinyElf().load(0, PF_R | PF_X, 0, BASE, 0x800, 0x1000).write(dir));
        assertEquals(List.of(seg(BASE, BASE + 0x1000, READ | EXEC, 0, 0x1000)), elf.loadSegments(0));
    }

    @Test
    void overlappingAndUnsortedSegmentsOverwriteInHeaderOrder() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf()
                .load(0, PF_R | PF_X, 0, BASE + 0x1000, 0x2000, 0x2000)
                .load(1, PF_R, 0x1000, BASE + 0x2000, 0x1000, 0x1000)
                .load(2, PF_R | PF_W, 0, BASE, 0x1000, 0x1000)
                .write(dir));
        assertEquals(List.of(
                seg(BASE, BASE + 0x1000, READ | WRITE, 0, 0x1000),
                seg(BASE + 0x1000, BASE + 0x2000, READ | EXEC, 0, 0x1000),
                seg(BASE + 0x2000, BASE + 0x3000, READ, 0x1000, 0x1000)),
                elf.loadSegments(0));
        assertEquals(BASE + 0x3000, elf.programBreak(0));
    }

    @Test
    void filePagesPastTheEndOfTheFileAreMarked() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().load(0, PF_R | PF_X, 0, BASE, 0x4000, 0x4000).write(dir));
        assertEquals(List.of(seg(BASE, BASE + 0x2000, READ | EXEC, 0, 0x2000),
                new LoadSegment(BASE + 0x2000, BASE + 0x4000, READ | EXEC, 0, 0, true)), elf.loadSegments(0));
        assertTrue(elf.bytesAt(BASE + 0x2000, 1).isEmpty());
        assertTrue(elf.execFailure().isEmpty(), "Linux maps it; only touching those pages faults (SIGBUS)");
    }

    @Test
    void emptyLoadSegmentsMapNothingButCount() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().load(1, PF_R | PF_W, 0, BASE + 0x5000, 0, 0).write(dir));
        assertEquals(2, elf.loadSegments(0).size());
        assertEquals(BASE + 0x5000, elf.programBreak(0), "Linux's elf_brk counts every PT_LOAD");
    }

    @Test
    void noLoadSegmentsMapsNothing() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().phdr(0, ProgramHeader.PT_NOTE, PF_R, 0, 0, 0, 0, 4).write(dir));
        assertEquals(List.of(), elf.loadSegments(0));
        assertEquals(Optional.empty(), elf.execFailure(), "Linux starts it; the entry point faults");
    }
}
