package dev.goemu.loader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

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

/** Page layout of PT_LOAD segments, on hand-made binaries. */
class LoadSegmentsTest {
    @TempDir
    Path dir;

    @Test
    void oneSegmentWithBss() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().write(dir));
        assertEquals(List.of(new LoadSegment(BASE, BASE + 0x3000, READ | EXEC, 0, 0x2000, BASE)), elf.loadSegments(0));
        assertEquals(BASE + 0x3000, elf.programBreak(0));
        assertEquals(BASE + 0x1000, elf.entry());
        assertEquals(BASE + 0x40, elf.phdrVaddr(), "no PT_PHDR: found through the PT_LOAD that holds e_phoff");
        assertTrue(elf.sections().isEmpty());
        assertTrue(elf.symbols().isEmpty());
        assertTrue(elf.isStatic());
    }

    @Test
    void positionIndependentBinaryMovesByTheBias() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().u16(16, ElfFile.ET_DYN).u64(24, 0x1000)
                .load(0, PF_R | PF_X, 0, 0, 0x2000, 0x3000).write(dir));
        long bias = 0x555555554000L;
        assertEquals(List.of(new LoadSegment(bias, bias + 0x3000, READ | EXEC, 0, 0x2000, bias)), elf.loadSegments(bias));
        assertEquals(bias + 0x3000, elf.programBreak(bias));
        assertThrows(IllegalArgumentException.class, () -> elf.loadSegments(0x123));
        assertThrows(IllegalArgumentException.class, () -> elf.loadSegments(ElfFile.USER_LIMIT - 0x1000));
    }

    @Test
    void sharedPageGetsBothPermissionsAndItsOwnEntry() throws Exception {
        // Code to 0x401800, data from 0x401800: the page at 0x401000 holds both.
        ElfFile elf = ElfFile.read(new TinyElf()
                .load(0, PF_R | PF_X, 0, BASE, 0x1800, 0x1800)
                .load(1, PF_R | PF_W, 0x1800, BASE + 0x1800, 0x100, 0x2000)
                .write(dir));
        assertEquals(List.of(
                new LoadSegment(BASE, BASE + 0x1000, READ | EXEC, 0, 0, BASE),
                new LoadSegment(BASE + 0x1000, BASE + 0x2000, READ | WRITE | EXEC, 0, 0x1800, BASE),
                new LoadSegment(BASE + 0x2000, BASE + 0x4000, READ | WRITE, 0x1800, 0x100, BASE + 0x1800)),
                elf.loadSegments(0));
        assertEquals(BASE + 0x4000, elf.programBreak(0));
    }

    @Test
    void copyStaysWithTheEarlierEntryWhenItsDataEndsBeforeTheSharedPage() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf()
                .load(0, PF_R | PF_X, 0, BASE, 0x800, 0x1800)
                .load(1, PF_R | PF_W, 0x1800, BASE + 0x1800, 0x100, 0x100)
                .write(dir));
        assertEquals(List.of(
                new LoadSegment(BASE, BASE + 0x1000, READ | EXEC, 0, 0x800, BASE),
                new LoadSegment(BASE + 0x1000, BASE + 0x2000, READ | WRITE | EXEC, 0x1800, 0x100, BASE + 0x1800)),
                elf.loadSegments(0));
    }

    @Test
    void emptyLoadSegmentsMapNothing() throws Exception {
        ElfFile elf = ElfFile.read(new TinyElf().load(1, PF_R | PF_W, 0, BASE + 0x5000, 0, 0).write(dir));
        assertEquals(1, elf.loadSegments(0).size());
        assertEquals(BASE + 0x3000, elf.programBreak(0));
    }
}
