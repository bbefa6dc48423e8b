package dev.goemu.hooks;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Go releases on the test machines that goemu has built-in runtime layouts for, and programs built with them
 * (once per test run, under target/). A release that cannot be run or fetched skips its tests.
 */
enum TestRelease {
    GO1_19("/usr/lib/go-1.19/bin/go", 4),
    GO1_21("go1.21.13", 4),
    GO1_26("go1.26.8", 5),
    GO1_27("go1.27.0", 5);

    /** A program with goroutines, channels and fmt: it links more of the runtime than the layouts' reference program. */
    static final String PROGRAM = """
            package main

            import (
            	"fmt"
            	"os"
            	"runtime"
            	"sync"
            )

            func main() {
            	var wg sync.WaitGroup
            	results := make(chan int, 8)
            	for i := 0; i < 8; i++ {
            		wg.Add(1)
            		go func(n int) {
            			defer wg.Done()
            			results <- n * n
            		}(i)
            	}
            	wg.Wait()
            	close(results)
            	sum := 0
            	for r := range results {
            		sum += r
            	}
            	fmt.Fprintln(os.Stdout, "sum", sum, "goroutines", runtime.NumGoroutine(), "procs", runtime.GOMAXPROCS(0))
            }
            """;
    static final Path OUT = Path.of("target", "runtime-layout-test").toAbsolutePath();

    final GoToolchain toolchain;
    /** The DWARF version the release writes, as readelf shows it. */
    final int dwarfVersion;
    private final Map<String, Path> built = new HashMap<>();
    private Optional<String> version;

    TestRelease(String toolchain, int dwarfVersion) {
        this.toolchain = new GoToolchain(toolchain);
        this.dwarfVersion = dwarfVersion;
    }

    /** "go1.26.8"; skips the calling test if the release is not available. */
    synchronized String version() throws Exception {
        if (version == null) version = toolchain.version();
        assumeTrue(version.isPresent(), toolchain.spec() + ": this Go release cannot be run or fetched here");
        return version.get();
    }

    String minor() throws Exception {
        return LayoutTable.minorRelease(version()).orElseThrow();
    }

    /** {@link #PROGRAM} built with this release and {@code buildFlags}, under a name that tells them apart. */
    synchronized Path binary(String name, String... buildFlags) throws Exception {
        version();
        Path done = built.get(name);
        if (done != null) return done;
        Path dir = OUT.resolve(name());
        Path bin = toolchain.build(dir.resolve("src"), PROGRAM, dir.resolve(name), buildFlags);
        built.put(name, bin);
        return bin;
    }

    Path unstripped() throws Exception {
        return binary("program");
    }

    Path stripped() throws Exception {
        return binary("program-stripped", "-ldflags=-s -w");
    }

    Path dir() {
        return OUT.resolve(name());
    }
}
