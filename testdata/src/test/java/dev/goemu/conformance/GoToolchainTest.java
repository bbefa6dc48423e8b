package dev.goemu.conformance;

import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The go command of each release runs under goemu: {@code go build} starts the compiler and the linker as emulated
 * child processes (the linker writes through a shared file mapping) and must produce the same executable, byte for
 * byte, as the native {@code go build} (Go builds are reproducible); {@code go vet} of a package with a vet finding
 * must report it exactly as natively. The package is new for every run, so goemu's go really compiles it; the
 * standard library comes from the machine's build cache. The native build uses a cache of its own, so that it
 * compiles everything itself and shares nothing with the emulated build.
 */
class GoToolchainTest {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final Path OUT = ConformanceTest.TARGET.resolve("toolchain");

    @TestFactory
    Stream<DynamicTest> toolchain() throws Exception {
        ConformanceTest.assumeBuilt();
        return ConformanceTest.releases().stream().flatMap(r -> Stream.of(
                DynamicTest.dynamicTest(r.version() + "/build", () -> build(r)),
                DynamicTest.dynamicTest(r.version() + "/vet", () -> vet(r))));
    }

    private static void build(ConformanceTest.Release r) throws Exception {
        assumeStaticGoCommand(r);
        Path dir = freshPackage(r, "build", "package main\n\nimport \"fmt\"\n\nconst stamp = \"%s\"\n\n"
                + "func main() { fmt.Println(\"built\", stamp) }\n");
        Path nativeOut = dir.resolve("native.out"), goemuOut = dir.resolve("goemu.out");
        ConformanceTest.Exec emu = run(dir, "goemu", goemu(r, "build", "-o", goemuOut.toString(), "."), ConformanceTest.goEnv());
        assertEquals(0, emu.exit(), "goemu run go build:\n" + emu.stdout() + emu.stderr());
        Map<String, String> ownCache = ConformanceTest.goEnv();
        ownCache.put("GOCACHE", dir.resolve("native-cache").toString());
        ConformanceTest.Exec nat = run(dir, "native", List.of(r.go(), "build", "-o", nativeOut.toString(), "."), ownCache);
        assertEquals(0, nat.exit(), "native go build:\n" + nat.stdout() + nat.stderr());
        assertArrayEquals(Files.readAllBytes(nativeOut), Files.readAllBytes(goemuOut),
                "go build under goemu wrote a different executable than natively");
    }

    private static void vet(ConformanceTest.Release r) throws Exception {
        assumeStaticGoCommand(r);
        Path dir = freshPackage(r, "vet", "package main\n\nimport \"fmt\"\n\nconst stamp = \"%s\"\n\n"
                + "func main() { fmt.Printf(\"%%d\\n\", stamp) }\n");
        ConformanceTest.Exec emu = run(dir, "goemu", goemu(r, "vet", "."), ConformanceTest.goEnv());
        ConformanceTest.Exec nat = run(dir, "native", List.of(r.go(), "vet", "."), ConformanceTest.goEnv());
        assertEquals(1, nat.exit(), "native go vet should report the finding:\n" + nat.stderr());
        assertEquals(nat.stderr(), emu.stderr(), "go vet's report");
        assertEquals(nat.stdout(), emu.stdout());
        assertEquals(nat.exit(), emu.exit(), "go vet's exit status");
    }

    /** Debian's go 1.19 is linked dynamically (cgo): goemu runs static binaries; Go's own releases are static. */
    private static void assumeStaticGoCommand(ConformanceTest.Release r) throws Exception {
        try {
            ElfFile.read(Path.of(r.go()).toRealPath()).requireStaticExecutable();
        } catch (BadBinaryException e) {
            Assumptions.abort(r.go() + " cannot run under goemu: " + e.getMessage());
        }
    }

    /** A module of its own with one main package whose source is new in every run (the stamp). */
    private static Path freshPackage(ConformanceTest.Release r, String name, String source) throws Exception {
        Path dir = OUT.resolve(r.version()).resolve(name);
        Files.createDirectories(dir);
        try (var old = Files.list(dir)) {
            for (Path p : old.filter(p -> p.getFileName().toString().endsWith(".out")).toList()) Files.delete(p);
        }
        Files.writeString(dir.resolve("go.mod"), "module example.com/" + name + "\n\ngo 1.19\n");
        Files.writeString(dir.resolve("main.go"), String.format(source, System.nanoTime()));
        return dir;
    }

    private static List<String> goemu(ConformanceTest.Release r, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ConformanceTest.LAUNCHER.toString(), "run", "--", r.go()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static ConformanceTest.Exec run(Path dir, String tag, List<String> cmd, Map<String, String> env) throws Exception {
        return ConformanceTest.exec(cmd, env, null, dir, tag, TIMEOUT);
    }
}
