package dev.goemu.hooks;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A Go release that builds programs the way the built-in layouts assume: static ({@code CGO_ENABLED=0}), linux/amd64,
 * baseline {@code GOAMD64=v1}, no {@code GOEXPERIMENT} or {@code GOFLAGS} from the caller (each changes the runtime's
 * code or layout).
 *
 * @param spec a {@code GOTOOLCHAIN} value ("go1.26.8", run by the go on PATH, which fetches it if it is not the
 *             local one) or the path of a go command ("/usr/lib/go-1.19/bin/go")
 */
record GoToolchain(String spec) {
    /** The outcome of a go command: its exit status and its output, stdout and stderr together. */
    record Result(int status, String output) {}

    /** The release's GOVERSION ("go1.26.8"); empty if it cannot be run or fetched. */
    Optional<String> version() throws IOException, InterruptedException {
        Result r = go(Path.of(System.getProperty("java.io.tmpdir")), Map.of(), "env", "GOVERSION");
        return r.status == 0 && r.output.strip().startsWith("go") ? Optional.of(r.output.strip()) : Optional.empty();
    }

    /**
     * Builds {@code mainSource} as the only file of a module in {@code dir} into {@code output}, passing
     * {@code buildFlags} ("-ldflags=-s -w") to go build.
     *
     * @throws IOException if the build fails; the message holds the go command's output
     */
    Path build(Path dir, String mainSource, Path output, String... buildFlags) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("go.mod"), "module example.com/goemu\n\ngo 1.19\n");
        Files.writeString(dir.resolve("main.go"), mainSource);
        List<String> args = new ArrayList<>(List.of("build", "-o", output.toAbsolutePath().toString()));
        args.addAll(List.of(buildFlags));
        args.add(".");
        Result r = go(dir, Map.of(), args.toArray(String[]::new));
        if (r.status != 0) throw new IOException(spec + ": go build failed:\n" + r.output);
        return output;
    }

    /** Runs the go command with {@code args} in {@code dir}, in the build environment plus {@code extraEnv}. */
    Result go(Path dir, Map<String, String> extraEnv, String... args) throws IOException, InterruptedException {
        Optional<String> go = command();
        if (go.isEmpty()) return new Result(-1, "no go command for " + spec);
        List<String> cmd = new ArrayList<>(List.of(go.get()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        for (String unset : List.of("GOFLAGS", "GOEXPERIMENT", "GOROOT", "GOWORK", "GODEBUG")) env.remove(unset);
        env.putAll(Map.of("CGO_ENABLED", "0", "GOOS", "linux", "GOARCH", "amd64", "GOAMD64", "v1",
                "GOTOOLCHAIN", spec.contains(File.separator) ? "local" : spec));
        env.putAll(extraEnv);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), output);
    }

    private Optional<String> command() {
        if (spec.contains(File.separator)) return Optional.of(spec).filter(go -> Files.isExecutable(Path.of(go)));
        return Stream.concat(
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).map(d -> Path.of(d, "go")),
                        Stream.of(Path.of("/usr/local/go/bin/go")))
                .filter(Files::isExecutable).findFirst().map(Path::toString);
    }
}
