package dev.goemu.cli;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Builds small static Go programs for tests; a test without the go toolchain is skipped, not failed. */
final class TestGo {
    private TestGo() {}

    /** Writes {@code main.go} (and a go.mod) into {@code dir}; the go command, or the test is skipped. */
    static Path module(Path dir, String mainGo) throws Exception {
        Optional<Path> go = Stream.concat(
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).map(d -> Path.of(d, "go")),
                        Stream.of(Path.of("/usr/local/go/bin/go")))
                .filter(Files::isExecutable).findFirst();
        assumeTrue(go.isPresent(), "needs the go toolchain on PATH");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("go.mod"), "module example.com/" + dir.getFileName() + "\n\ngo 1.21\n");
        Files.writeString(dir.resolve("main.go"), mainGo);
        return go.get();
    }

    /** {@code go build} of the module in {@code dir} into {@code dir/name}, static linux/amd64. */
    static Path build(Path go, Path dir, String name, String... flags) throws Exception {
        Path bin = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of(go.toString(), "build", "-o", bin.toString()));
        cmd.addAll(List.of(flags));
        cmd.add(".");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(Map.of("CGO_ENABLED", "0", "GOOS", "linux", "GOARCH", "amd64", "GOTOOLCHAIN", "local"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "go build failed:\n" + output);
        return bin;
    }
}
