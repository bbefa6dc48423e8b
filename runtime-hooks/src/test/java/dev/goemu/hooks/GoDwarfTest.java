package dev.goemu.hooks;

import dev.goemu.hooks.dwarf.DwarfField;
import dev.goemu.hooks.dwarf.DwarfType;
import dev.goemu.hooks.dwarf.DwarfVariable;
import dev.goemu.hooks.dwarf.GoDwarf;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Symbol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks the DWARF reader against the toolchain's own facts: readelf's dump of the same DWARF, the runtime's
 * {@code go_asm.h} (the compiler's field offsets of every runtime struct) and {@code .symtab}.
 */
class GoDwarfTest {
    private static final Pattern DIE = Pattern.compile("^ <(\\d+)><([0-9a-f]+)>: Abbrev Number: \\d+ \\((DW_TAG_\\w+)\\)");
    private static final Pattern ATTR = Pattern.compile("^ +<[0-9a-f]+> +(DW_AT_\\w+) *: (.*)$");
    private static final Pattern ADDR = Pattern.compile("\\(DW_OP_addr: ([0-9a-f]+)\\)");
    private static final Pattern ASM_DEFINE = Pattern.compile("^#define (\\w+) (-?\\d+)$", Pattern.MULTILINE);

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void versionAndCompressionAreWhatReadelfShows(TestRelease r) throws Exception {
        Path bin = r.unstripped();
        GoDwarf dwarf = GoDwarf.load(ElfFile.read(bin)).orElseThrow();
        int readelfVersion = 0;
        Matcher m = Pattern.compile("^   Version: +(\\d+)$", Pattern.MULTILINE)
                .matcher(readelf(bin, "--debug-dump=info", "--dwarf-depth=1"));
        while (m.find()) readelfVersion = Math.max(readelfVersion, Integer.parseInt(m.group(1)));
        assertEquals(readelfVersion, dwarf.version());
        assertEquals(r.dwarfVersion, dwarf.version());
        String debugInfo = readelf(bin, "-S", "-W").lines().filter(l -> l.contains(" .debug_info ")).findFirst().orElseThrow();
        assertTrue(debugInfo.matches(".* C +\\d+ +\\d+ +\\d+$"), "readelf flags .debug_info compressed: " + debugInfo);
        assertEquals("SHF_COMPRESSED zlib", dwarf.compression());
    }

    /** Every named struct and every global directly under a unit, as readelf decodes them. */
    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void typesAndVariablesAgreeWithReadelf(TestRelease r) throws Exception {
        Path bin = r.unstripped();
        GoDwarf dwarf = GoDwarf.load(ElfFile.read(bin)).orElseThrow();
        Map<String, Long> structSizes = new HashMap<>(), variableAddresses = new HashMap<>();
        String tag = null, name = null;
        for (String line : readelf(bin, "--debug-dump=info", "--dwarf-depth=2").split("\n")) {
            Matcher die = DIE.matcher(line), attr = ATTR.matcher(line);
            if (die.find()) {
                tag = die.group(1).equals("1") ? die.group(3) : null;
                name = null;
            } else if (tag != null && attr.find()) {
                String value = attr.group(2).strip();
                switch (attr.group(1)) {
                    case "DW_AT_name" -> name = value;
                    case "DW_AT_byte_size" -> {
                        if (tag.equals("DW_TAG_structure_type")) structSizes.putIfAbsent(name, Long.parseLong(value));
                    }
                    case "DW_AT_location" -> {
                        Matcher a = ADDR.matcher(value);
                        if (tag.equals("DW_TAG_variable") && a.find()) variableAddresses.putIfAbsent(name, Long.parseLong(a.group(1), 16));
                    }
                    default -> { }
                }
            }
        }
        assertTrue(structSizes.size() > 300, "structs: " + structSizes.size());
        assertTrue(variableAddresses.size() > 300, "variables: " + variableAddresses.size());
        structSizes.forEach((type, size) -> {
            DwarfType t = dwarf.type(type).orElseThrow(() -> new AssertionError("no type " + type));
            assertEquals(DwarfType.Kind.STRUCT, t.kind(), type);
            assertEquals(size, t.size(), type);
        });
        variableAddresses.forEach((variable, address) ->
                assertEquals(address, dwarf.variable(variable).orElseThrow(() -> new AssertionError("no " + variable)).address(), variable));
    }

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void schedulerStructsHaveTheCompilersOffsets(TestRelease r) throws Exception {
        GoDwarf dwarf = GoDwarf.load(ElfFile.read(r.unstripped())).orElseThrow();
        Map<String, Long> asm = goAsmH(r);
        int checked = 0;
        for (String type : LayoutTable.ROOT_TYPES) {
            String shortName = type.substring("runtime.".length());
            DwarfType t = dwarf.type(type).orElseThrow();
            assertEquals(asm.get(shortName + "__size"), t.size(), type + " size");
            for (DwarfField f : t.fields()) {
                if (f.name().equals("_")) continue;
                assertEquals(asm.get(shortName + "_" + f.name()), f.offset(), type + "." + f.name());
                checked++;
            }
        }
        assertTrue(checked > 150, "fields checked: " + checked);
        // Paths through nested structs, as the views use them.
        DwarfType g = dwarf.type("runtime.g").orElseThrow();
        DwarfField sched = g.field("sched").orElseThrow();
        assertEquals("runtime.gobuf", sched.type().name());
        assertEquals(asm.get("gobuf_sp"), sched.type().field("sp").orElseThrow().offset());
        assertEquals(8, sched.type().field("sp").orElseThrow().size());
        assertEquals(asm.containsKey("schedt_needspinning"), dwarf.type("runtime.schedt").orElseThrow().field("needspinning").isPresent());
    }

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void runtimeGlobalsAreWhereSymtabSays(TestRelease r) throws Exception {
        ElfFile elf = ElfFile.read(r.unstripped());
        GoDwarf dwarf = GoDwarf.load(elf).orElseThrow();
        int found = 0;
        for (String name : RuntimeLayout.GLOBALS) {
            Optional<Symbol> symbol = elf.symbols().lookup(name);
            Optional<DwarfVariable> variable = dwarf.variable(name);
            assertEquals(symbol.isPresent(), variable.isPresent(), name);
            if (symbol.isEmpty()) continue;
            assertEquals(symbol.get().value(), variable.get().address(), name);
            assertEquals(symbol.get().size(), variable.get().type().size(), name + " size");
            found++;
        }
        assertEquals(RuntimeLayout.GLOBALS.size() - 1, found, "each release has ncpu or numCPUStartup, not both");
        DwarfType allp = dwarf.variable("runtime.allp").orElseThrow().type();
        assertEquals("[]*runtime.p", allp.name());
        assertEquals(List.of("array", "len", "cap"), allp.fields().stream().map(DwarfField::name).toList());
        DwarfType elem = allp.field("array").orElseThrow().type().element().orElseThrow();
        assertEquals("*runtime.p", elem.name());
        assertEquals("runtime.p", elem.element().orElseThrow().name());
        DwarfType runq = elem.element().orElseThrow().field("runq").orElseThrow().type();
        assertEquals(DwarfType.Kind.ARRAY, runq.kind());
        assertEquals(256, runq.count());
        assertEquals(256 * 8, runq.size());
    }

    @ParameterizedTest
    @EnumSource(TestRelease.class)
    void loadsQuickly(TestRelease r) throws Exception {
        ElfFile elf = ElfFile.read(r.unstripped());
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            GoDwarf.load(elf).orElseThrow().type("runtime.g").orElseThrow().fields();
            best = Math.min(best, System.nanoTime() - start);
        }
        System.out.printf("%s: DWARF load %.1f ms (best of 3)%n", r.version(), best / 1e6);
        assertTrue(best < 300_000_000L, "DWARF load took " + best / 1_000_000 + " ms");
    }

    /** Go's older layout (.zdebug_*, "ZLIB" headers) and no compression at all give the same answers. */
    @Test
    void zdebugAndUncompressedSectionsReadTheSame() throws Exception {
        TestRelease r = TestRelease.GO1_26;
        Path plain = r.binary("program-uncompressed", "-ldflags=-compressdwarf=false");
        Path zdebug = r.dir().resolve("program-zdebug");
        Optional<Integer> objcopy = exitStatus("objcopy", "--compress-debug-sections=zlib-gnu", plain.toString(), zdebug.toString());
        assumeTrue(objcopy.isPresent() && objcopy.get() == 0, "needs binutils' objcopy");
        GoDwarf compressed = GoDwarf.load(ElfFile.read(r.unstripped())).orElseThrow();
        for (Path bin : List.of(plain, zdebug)) {
            ElfFile elf = ElfFile.read(bin);
            GoDwarf dwarf = GoDwarf.load(elf).orElseThrow();
            assertEquals(bin == plain ? "uncompressed" : ".zdebug zlib", dwarf.compression());
            assertEquals(compressed.typeCount(), dwarf.typeCount());
            for (String type : LayoutTable.ROOT_TYPES) {
                assertEquals(describe(compressed.type(type).orElseThrow()), describe(dwarf.type(type).orElseThrow()), type);
            }
            assertEquals(elf.symbols().lookup("runtime.sched").orElseThrow().value(),
                    dwarf.variable("runtime.sched").orElseThrow().address());
        }
        assertFalse(ElfFile.read(zdebug).section(".zdebug_info").isEmpty());
    }

    private static List<String> describe(DwarfType t) {
        return t.fields().stream().map(f -> f.name() + "@" + f.offset() + ":" + f.size() + ":" + f.type().name()).toList();
    }

    /** The runtime's go_asm.h as name → value: {@code g_sched}, {@code gobuf_sp}, {@code schedt__size}. */
    private static Map<String, Long> goAsmH(TestRelease r) throws Exception {
        Path work = r.dir().resolve("asmhdr");
        deleteTree(work);
        Files.createDirectories(work);
        try {
            // The go command writes go_asm.h into the runtime's work directory: -a makes it compile, -work keeps it.
            GoToolchain.Result result = r.toolchain.go(work, Map.of("GOTMPDIR", work.toString()), "build", "-a", "-work", "runtime");
            assertEquals(0, result.status(), result.output());
            try (var files = Files.walk(work)) {
                for (Path h : files.filter(p -> p.getFileName().toString().equals("go_asm.h")).toList()) {
                    String text = Files.readString(h);
                    if (!text.contains("#define g_stack ")) continue;
                    Map<String, Long> out = new HashMap<>();
                    Matcher m = ASM_DEFINE.matcher(text);
                    while (m.find()) out.put(m.group(1), new BigInteger(m.group(2)).longValue()); // some exceed 2^63
                    return out;
                }
            }
            throw new AssertionError("no go_asm.h of the runtime under " + work);
        } finally {
            deleteTree(work); // -work leaves a copy of every package it compiled
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static String readelf(Path bin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("readelf"));
        cmd.addAll(List.of(args));
        cmd.add(bin.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            assumeTrue(false, "needs binutils' readelf");
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "readelf " + String.join(" ", args));
        return out;
    }

    private static Optional<Integer> exitStatus(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return Optional.of(p.waitFor());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
