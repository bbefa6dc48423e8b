package dev.goemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates libgoemu_hooks.so (built from src/main/c/goemu_syscall.c by the emulator module's Maven build). */
final class HooksLibrary {
    private static SymbolLookup library;
    private static Path file;

    private HooksLibrary() {}

    /** goemu_syscall_hook, the SYSCALL hook {@link FastSyscalls} describes. */
    static MemorySegment syscallHook() {
        return symbol("goemu_syscall_hook");
    }

    /** goemu_rdtsc_hook, goemu_rdtscp_hook: deterministic mode's hooks on the same struct. */
    static MemorySegment rdtscHook() {
        return symbol("goemu_rdtsc_hook");
    }

    static MemorySegment rdtscpHook() {
        return symbol("goemu_rdtscp_hook");
    }

    private static synchronized MemorySegment symbol(String name) {
        if (library == null) load();
        return library.find(name).orElseThrow(() -> new UnicornException(name + " missing in goemu.hooks.lib=" + file
                + ": rebuild the emulator module"));
    }

    private static void load() {
        file = locate(System.getProperty("goemu.hooks.lib"), System.getenv("GOEMU_HOOKS_LIB"));
        try {
            library = SymbolLookup.libraryLookup(file, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new UnicornException("cannot load goemu.hooks.lib=" + file + ": " + e.getMessage(), e);
        }
    }

    /** The library named by the property (unless blank or an unresolved "${...}"), else by GOEMU_HOOKS_LIB. */
    static Path locate(String property, String env) {
        boolean fromProp = property != null && !property.isBlank() && !property.startsWith("${");
        String p = fromProp ? property : env;
        String hint = "; build the emulator module (mvn, or ./build.sh), which compiles src/main/c/goemu_syscall.c to"
                + " emulator/target/native/libgoemu_hooks.so, and pass -Dgoemu.hooks.lib=<that path>";
        if (p == null || p.isBlank()) {
            throw new UnicornException("libgoemu_hooks.so not found: system property goemu.hooks.lib is not set" + hint);
        }
        if (!Files.isRegularFile(Path.of(p))) {
            throw new UnicornException("libgoemu_hooks.so not found: goemu.hooks.lib=" + p + " does not exist" + hint);
        }
        return Path.of(p);
    }
}
