package dev.goemu.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs every mutation of the fuzz corpus natively and under goemu: a file Linux's execve refuses is refused by
 * goemu (status 126); one Linux runs, or kills as it starts, gives the same stdout and exit status under goemu
 * (0, 139, ...). goemu runs in a child JVM on this test's class path, as {@code goemu run}. The native runs go
 * through a direct execve (a Go helper's syscall.Exec): Java's and glibc's exec run a file that execve refuses
 * with ENOEXEC as a shell script. {@code -Dgoemu.elfrun.random=N} (and {@code goemu.fuzz.seed}) adds N random
 * mutations, to hunt for differences.
 */
class MutatedElfRunTest {
    private static final Path OUT = Path.of("target", "elf-run").toAbsolutePath();
    private static final Path SCRATCH = OUT.resolve("cwd");
    private static final long TIMEOUT_SECONDS = 60;
    private static final String EXECVE = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"syscall\"\n)\n\n"
            + "func main() {\n\terr := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())\n"
            + "\tfmt.Fprintln(os.Stderr, \"execve:\", err)\n\tos.Exit(126)\n}\n";
    private static byte[] hello;
    private static Path execve;

    record Outcome(int status, String stdout) { }

    @BeforeAll
    static void build() throws Exception {
        Path go = TestGo.module(OUT, ElfFuzzTest.HELLO);
        hello = Files.readAllBytes(TestGo.build(go, OUT, "hello"));
        Files.createDirectories(SCRATCH);
        Path helper = OUT.resolve("execve");
        execve = TestGo.build(TestGo.module(helper, EXECVE), helper, "execve");
    }

    @Test
    void goemuRunsWhatLinuxRunsAndRefusesWhatItRefuses() throws Exception {
        List<ElfMutation> corpus = new ArrayList<>(ElfFuzzTest.corpus("corpus.txt"));
        Random rnd = new Random(Long.getLong("goemu.fuzz.seed", 1));
        int phnum = (hello[56] & 0xff) | (hello[57] & 0xff) << 8, shnum = (hello[60] & 0xff) | (hello[61] & 0xff) << 8;
        for (int i = Integer.getInteger("goemu.elfrun.random", 0); i > 0; i--) {
            corpus.add(ElfMutation.random(rnd, hello.length, phnum, shnum));
        }
        ExecutorService pool = Executors.newFixedThreadPool(2); // the machines have 2 cores
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < corpus.size(); i++) {
                ElfMutation m = corpus.get(i);
                Path bin = OUT.resolve("mutant-" + i);
                Files.write(bin, m.apply(hello));
                Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
                results.add(pool.submit(() -> compare(m, bin)));
            }
            List<String> mismatches = new ArrayList<>();
            for (Future<String> f : results) {
                String mismatch = f.get();
                if (mismatch != null) mismatches.add(mismatch);
            }
            assertEquals(List.of(), mismatches);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Null if both agree, else what differs. */
    private static String compare(ElfMutation m, Path bin) throws Exception {
        Outcome nat = run(List.of(execve.toString(), bin.toString()));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path")));
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("goemu."))
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.addAll(List.of(Main.class.getName(), "run", bin.toString()));
        Outcome emu = run(cmd);
        return nat.equals(emu) ? null : m + ": native " + nat + ", goemu " + emu;
    }

    private static Outcome run(List<String> cmd) throws Exception {
        Path stdout = Files.createTempFile(OUT, "stdout", ".txt");
        try {
            // A mutant may run stray code that creates files: it runs in a scratch directory, not the module's.
            Process p = new ProcessBuilder(cmd).directory(SCRATCH.toFile()).redirectOutput(stdout.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Outcome(-1, "timed out");
            }
            return new Outcome(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(stdout);
        }
    }
}
