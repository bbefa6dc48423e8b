package dev.goemu.cli;

import dev.goemu.emulator.Emulator;
import dev.goemu.emulator.GuestCrash;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded mutations of a real Go binary (header fields, program and section headers, truncations, huge sizes, stray
 * bytes) through the loader, {@code goemu info} and the process set-up, in process. Whatever the input: no
 * exception but the one-line refusal escapes, and each input takes bounded time, heap and resident memory. A
 * failure names the mutation; add it to {@code src/test/resources/elf/corpus.txt}, which runs first.
 * {@code -Dgoemu.fuzz.seed=N -Dgoemu.fuzz.count=N} run others.
 */
class ElfFuzzTest {
    static final String HELLO = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"Hello, world!\")\n}\n";
    private static final Path OUT = Path.of("target", "elf-fuzz").toAbsolutePath();
    private static final long SEED = Long.getLong("goemu.fuzz.seed", 20261130L);
    private static final int COUNT = Integer.getInteger("goemu.fuzz.count", 2500);
    /** Every this many random inputs also go through {@code goemu info} and the process set-up (the slow part). */
    private static final int DEEP_EVERY = 20;
    private static final long MAX_NANOS = 5_000_000_000L, MAX_RSS_GROWTH = 256L << 20;
    private static byte[] hello;
    private static int phnum, shnum;

    @BeforeAll
    static void build() throws Exception {
        Path go = TestGo.module(OUT, HELLO);
        hello = Files.readAllBytes(TestGo.build(go, OUT, "hello"));
        phnum = (hello[56] & 0xff) | (hello[57] & 0xff) << 8;
        shnum = (hello[60] & 0xff) | (hello[61] & 0xff) << 8;
    }

    /** The mutations in a corpus file: one a line, without blank lines and # comments. */
    static List<ElfMutation> corpus(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(ElfFuzzTest.class.getResourceAsStream("/elf/" + name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).map(ElfMutation::new).toList();
        }
    }

    @Test
    void corpus() throws Exception {
        for (ElfMutation m : corpus("corpus.txt")) check(m, true);
    }

    @Test
    void randomMutations() throws Exception {
        Random rnd = new Random(SEED);
        long start = System.nanoTime(), cpu0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        int refused = 0;
        for (int i = 0; i < COUNT; i++) {
            if (!check(ElfMutation.random(rnd, hello.length, phnum, shnum), i % DEEP_EVERY == 0)) refused++;
        }
        System.out.printf("ElfFuzzTest: %d mutations (seed %d), %d refused, %.1f s (%.1f s of CPU)%n", COUNT, SEED,
                refused, (System.nanoTime() - start) / 1e9, (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu0) / 1e9);
        assertTrue(refused > COUNT / 50 && refused < COUNT - COUNT / 50, "mutations that both pass and fail: " + refused);
    }

    /** One input; true if the loader accepted it. */
    private static boolean check(ElfMutation m, boolean deep) throws IOException {
        Path p = OUT.resolve("mutant");
        Files.write(p, m.apply(hello));
        long heap0 = allocatedBytes(), t0 = System.nanoTime();
        boolean accepted;
        try {
            try {
                ElfFile elf = ElfFile.read(p);
                exercise(elf);
                accepted = true;
                if (deep && elf.isStatic()) setUpProcess(p, m);
            } catch (BadBinaryException e) {
                assertOneLine(e.getMessage(), m);
                assertTrue(e.getMessage().startsWith(p + ": "), m + ": " + e.getMessage());
                accepted = false;
            }
            if (deep) {
                InfoCommandTest.Result r = InfoCommandTest.info(p.toString());
                assertTrue(r.status() == 0 || r.status() == 126, m + ": status " + r.status() + ", " + r.err());
                if (r.status() == 0) assertEquals("", r.err(), m.text());
                else assertOneLine(r.err().strip(), m);
            }
        } catch (RuntimeException | Error e) {
            throw new AssertionError("mutation: " + m + ": " + e, e);
        }
        long nanos = System.nanoTime() - t0, heap = allocatedBytes() - heap0;
        assertTrue(nanos < MAX_NANOS, m + ": took " + nanos / 1_000_000 + " ms");
        assertTrue(heap < 64L * hello.length, m + ": allocated " + (heap >> 20) + " MiB");
        return accepted;
    }

    /** Everything a run or a tool may ask of an accepted file. */
    private static void exercise(ElfFile elf) {
        elf.loadSegments(0);
        elf.programBreak(0);
        elf.phdrVaddr();
        elf.execFailure();
        elf.bytesAt(elf.entry(), 16);
        elf.symbols().containing(elf.entry());
        elf.section(".gopclntab");
        elf.interpreter();
    }

    /** Maps the image as a run would, without running it: only a refusal or Linux's kill at exec may come out. */
    private static void setUpProcess(Path p, ElfMutation m) {
        long rss0 = residentBytes();
        try (Emulator e = new Emulator(new Emulator.Options(p, List.of(p.toString()), List.of(), 1, null,
                Emulator.DEFAULT_TIME_SLICE_NANOS))) {
            long grown = residentBytes() - rss0;
            assertTrue(grown < MAX_RSS_GROWTH, m + ": resident memory grew by " + (grown >> 20) + " MiB");
        } catch (BadBinaryException | GuestCrash e) {
            assertOneLine(e.getMessage(), m);
        }
    }

    private static void assertOneLine(String message, ElfMutation m) {
        assertFalse(message.isBlank() || message.contains("\n"), m + ": " + message);
        assertFalse(message.contains("Exception") || message.contains("internal error"), m + ": " + message);
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static long residentBytes() {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc/self/statm")).split(" ")[1]) * 4096;
        } catch (IOException e) {
            return 0;
        }
    }
}
