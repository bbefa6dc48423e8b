package dev.goemu.conformance;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Go linker of every release under test, run under goemu, writes the same executable as run natively. cmd/link
 * writes its output through a MAP_SHARED mapping of the file (and Go 1.23+ its telemetry counters through another),
 * so this is the shared-mapping path on a real program: the hello program compiled natively with {@code go tool
 * compile}, then linked natively and under goemu, compared byte for byte.
 */
class LinkTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Path OUT = ConformanceTest.TARGET.resolve("link");

    @TestFactory
    Stream<DynamicTest> link() throws Exception {
        ConformanceTest.assumeBuilt();
        return ConformanceTest.releases().stream().map(r -> DynamicTest.dynamicTest(r.version(), () -> link(r)));
    }

    private static void link(ConformanceTest.Release r) throws Exception {
        Path dir = OUT.resolve(r.version());
        Files.createDirectories(dir);
        Path importcfg = dir.resolve("importcfg"), object = dir.resolve("main.o");
        Files.writeString(importcfg, go(r, "list", "-export", "-deps",
                "-f", "{{if .Export}}packagefile {{.ImportPath}}={{.Export}}{{end}}", "./hello"));
        go(r, "tool", "compile", "-p", "main", "-importcfg", importcfg.toString(), "-o", object.toString(), "hello/main.go");
        String linker = Path.of(go(r, "env", "GOTOOLDIR").strip(), "link").toString();
        List<String> args = List.of("-importcfg", importcfg.toString(), "-buildmode=exe", "-o");
        Path nativeOut = dir.resolve("native.out"), goemuOut = dir.resolve("goemu.out");
        Files.deleteIfExists(goemuOut);
        run(dir, "native", concat(List.of(linker), args, nativeOut));
        run(dir, "goemu", concat(List.of(ConformanceTest.LAUNCHER.toString(), "run", "--", linker), args, goemuOut));
        byte[] expected = Files.readAllBytes(nativeOut);
        assertTrue(expected.length > 0);
        assertArrayEquals(expected, Files.readAllBytes(goemuOut), "the executable linked under goemu differs");
    }

    private static List<String> concat(List<String> head, List<String> args, Path output) {
        List<String> cmd = new ArrayList<>(head);
        cmd.addAll(args);
        cmd.add(output.toString());
        cmd.add(output.resolveSibling("main.o").toString());
        return cmd;
    }

    private static void run(Path dir, String tag, List<String> cmd) throws Exception {
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, ConformanceTest.goEnv(), null, dir, tag, TIMEOUT);
        assertEquals(0, e.exit(), tag + ": " + String.join(" ", cmd) + "\n" + e.stdout() + e.stderr());
    }

    /** Runs a go command of the release in testdata/go; returns its stdout. */
    private static String go(ConformanceTest.Release r, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(r.go()));
        cmd.addAll(List.of(args));
        ConformanceTest.Exec e = ConformanceTest.exec(cmd, ConformanceTest.goEnv(), null, ConformanceTest.MODULE.resolve("go"),
                null, ConformanceTest.BUILD_TIMEOUT);
        assertEquals(0, e.exit(), String.join(" ", cmd) + "\n" + e.stdout() + e.stderr());
        return e.stdout();
    }
}
