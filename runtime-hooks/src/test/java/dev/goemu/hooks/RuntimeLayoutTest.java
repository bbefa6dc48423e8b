package dev.goemu.hooks;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Section;
import dev.goemu.loader.Symbol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the runtime layouts on real builds of each release: the committed tables are what the generator derives
 * now, a stripped binary finds every global where the unstripped build's .symtab has it, and DWARF and the tables
 * agree.
 */
class RuntimeLayoutTest {
    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void committedTableIsWhatTheGeneratorDerivesNow(TestRelease r) throws Exception {
        String fresh = LayoutTableGenerator.generate(r.toolchain, r.dir().resolve("reference"));
        String committed = LayoutTable.builtInText(r.minor()).orElse("(none)");
        assertEquals(committed, fresh, r.minor() + ".txt is stale: regenerate it with scripts/generate-runtime-layouts.sh");
    }

    /**
     * The stripped build is not the unstripped one minus its symbols: its build info records "-ldflags=-s -w", which
     * shifts the data sections by a few bytes. The code is the same, and so is each global's place in its section.
     */
    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void strippedBinaryFindsEveryGlobalWhereSymtabHasIt(TestRelease r) throws Exception {
        ElfFile full = ElfFile.read(r.unstripped()), stripped = ElfFile.read(r.stripped());
        assertTrue(stripped.symbols().isEmpty() && stripped.section(".debug_info").isEmpty(), "-s -w leaves no symbols");
        assertEquals(section(full, ".text"), section(stripped, ".text"));
        RuntimeLayout layout = load(stripped);
        assertEquals("built-in layout for " + r.minor() + " (binary has no DWARF)", layout.source());
        int found = 0;
        for (String name : RuntimeLayout.GLOBALS) {
            Optional<Symbol> symbol = full.symbols().lookup(name);
            if (symbol.isEmpty()) {
                assertTrue(layout.global(name).isEmpty(), name);
                continue;
            }
            Section in = full.sections().stream().filter(s -> contains(s, symbol.get().value())).findFirst().orElseThrow();
            Section there = stripped.section(in.name()).orElseThrow();
            assertEquals(in.size(), there.size(), in.name());
            assertEquals(there.addr() + (symbol.get().value() - in.addr()), layout.requireGlobal(name), name + " in " + in.name());
            found++;
        }
        assertEquals(RuntimeLayout.GLOBALS.size() - 1, found);
    }

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void dwarfAgreesWithTheBuiltInTable(TestRelease r) throws Exception {
        RuntimeLayout layout = load(ElfFile.read(r.unstripped()));
        assertEquals("DWARF", layout.source());
        LayoutTable table = LayoutTable.builtIn(r.minor()).orElseThrow();
        int fields = 0;
        for (var byType : table.fields.entrySet()) {
            for (var entry : byType.getValue().entrySet()) {
                assertEquals(Optional.of(entry.getValue()), layout.field(byType.getKey(), entry.getKey()),
                        byType.getKey() + " " + entry.getKey());
                fields++;
            }
        }
        assertTrue(fields > 250, "fields: " + fields);
        table.typeSizes.forEach((type, size) -> assertEquals(size, layout.sizeof(type), type));
    }

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void pathsTheSchedulerViewsRead(TestRelease r) throws Exception {
        for (Path bin : List.of(r.unstripped(), r.stripped())) {
            RuntimeLayout layout = load(ElfFile.read(bin));
            String where = r.minor() + " " + layout.source();
            assertEquals(layout.offset("runtime.g", "sched") + layout.offset("runtime.gobuf", "sp"),
                    layout.offset("runtime.g", "sched.sp"), where);
            assertEquals(8, layout.size("runtime.g", "sched.sp"), where);
            assertEquals(layout.sizeof("runtime.gobuf"), layout.size("runtime.g", "sched"), where);
            // Atomic wrappers are read whole: atomic.Uint32 in 1.21+, a plain uint32 in 1.19.
            assertEquals(4, layout.size("runtime.g", "atomicstatus"), where);
            assertEquals(r == TestRelease.GO1_19 ? "uint32" : atomicPackage(r) + ".Uint32",
                    layout.typeName("runtime.g", "atomicstatus"), where);
            assertEquals(r != TestRelease.GO1_19, layout.has("runtime.schedt", "needspinning"), where);
            assertEquals(4, layout.size("runtime.p", "runqhead"), where);
            assertEquals(2048, layout.size("runtime.p", "runq"), where);
            assertEquals(8, layout.size("runtime.m", "curg"), where);
            assertFalse(layout.has("runtime.g", "no.such.field"), where);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layout.offset("runtime.schedt", "no_such_field"));
            assertEquals("runtime.schedt has no field no_such_field (layout: " + layout.source() + ")", e.getMessage());
        }
    }

    @Test
    void aStrippedBinaryOfAnUnknownReleaseHasNoLayout() throws Exception {
        ElfFile elf = ElfFile.read(TestRelease.GO1_26.stripped());
        GoSymbols syms = GoSymbols.load(elf).orElseThrow();
        LayoutUnavailableException e = assertThrows(LayoutUnavailableException.class,
                () -> RuntimeLayout.load(elf, syms, Optional.of(GoBuildInfo.parse("go1.22.12", ""))));
        assertEquals("no DWARF and no built-in layout for go1.22; rebuild without -w to see the scheduler", e.getMessage());
    }

    /** A binary whose runtime is not the table's (a 1.21 binary claiming 1.26) gets no layout rather than a wrong one. */
    @Test
    void aRuntimeThatIsNotTheTablesIsRefused() throws Exception {
        TestRelease.GO1_26.version();
        ElfFile elf = ElfFile.read(TestRelease.GO1_21.stripped());
        GoSymbols syms = GoSymbols.load(elf).orElseThrow();
        LayoutUnavailableException e = assertThrows(LayoutUnavailableException.class,
                () -> RuntimeLayout.load(elf, syms, Optional.of(GoBuildInfo.parse("go1.26.1", ""))));
        assertTrue(e.getMessage().matches("no DWARF, and the runtime of this go1.26.1 binary is not the go1.26.8 runtime "
                + "of the built-in layout \\(runtime\\.\\S+ is (missing|\\d+ bytes, not \\d+)\\); rebuild without -w to see "
                + "the scheduler"), e.getMessage());
    }

    private static String atomicPackage(TestRelease r) {
        return r == TestRelease.GO1_21 ? "runtime/internal/atomic" : "internal/runtime/atomic";
    }

    private static RuntimeLayout load(ElfFile elf) throws LayoutUnavailableException {
        return RuntimeLayout.load(elf, GoSymbols.load(elf).orElseThrow(), GoBuildInfo.read(elf));
    }

    private static String section(ElfFile elf, String name) {
        Section s = elf.section(name).orElseThrow();
        return String.format("%s 0x%x 0x%x", name, s.addr(), s.size());
    }

    private static boolean contains(Section s, long address) {
        return (s.flags() & Section.SHF_ALLOC) != 0 && address >= s.addr() && address < s.addr() + s.size();
    }
}
