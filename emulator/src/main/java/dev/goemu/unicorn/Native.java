package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Downcall handles into libunicorn. Touch this class only after {@link Library#lookup()} succeeded (every public
 * entry point does), so that a missing library is a clean {@link UnicornException}, not an initializer error.
 */
final class Native {
    private Native() {}

    static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIB = Library.lookup();

    // Calls that never run guest code or hooks are "critical" (no thread-state transition, heap arrays allowed).
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    // One holder class per call: the JVM initialises (links) each on its first use, so a run pays only for the calls
    // it makes. Linking costs start-up several ms per call (the JDK generates code for it); a hello world uses 14 of 24.
    static final class UcOpen {
        static final MethodHandle H = handle("uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }
    static final class UcClose {
        static final MethodHandle H = handle("uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    static final class UcStrerror {
        static final MethodHandle H = handle("uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT), CRITICAL);
    }
    static final class UcMemMap {
        static final MethodHandle H = handle("uc_mem_map",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
    }
    static final class UcMemMapPtr {
        static final MethodHandle H = handle("uc_mem_map_ptr",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
    }
    static final class UcMemUnmap {
        static final MethodHandle H = handle("uc_mem_unmap",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }
    static final class UcMemProtect {
        static final MethodHandle H = handle("uc_mem_protect",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
    }
    static final class UcMemRegions {
        static final MethodHandle H = handle("uc_mem_regions",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }
    static final class UcFree {
        static final MethodHandle H = handle("uc_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    static final class UcMemRead {
        static final MethodHandle H = handle("uc_mem_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL);
    }
    static final class UcMemWrite {
        static final MethodHandle H = handle("uc_mem_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL);
    }
    static final class UcRegRead2 {
        static final MethodHandle H = handle("uc_reg_read2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), CRITICAL);
    }
    static final class UcRegWrite2 {
        static final MethodHandle H = handle("uc_reg_write2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS), CRITICAL);
    }
    static final class UcEmuStart {
        static final MethodHandle H = handle("uc_emu_start",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }
    static final class UcEmuStop {
        static final MethodHandle H = handle("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    /** uc_hook_add(uc, &hh, type, cb, user_data, begin, end, ...): always called with one variadic int (the insn id, or 0). */
    static final class UcHookAdd {
        static final MethodHandle H = handle("uc_hook_add",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT),
                Linker.Option.firstVariadicArg(7));
    }
    /** uc_ctl(uc, control, ...): always called with one variadic int (the argument, or an ignored 0). */
    static final class UcCtl {
        static final MethodHandle H = handle("uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }
    /** uc_ctl(uc, control, uint64, uint64) */
    static final class UcCtl2L {
        static final MethodHandle H = handle("uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(2));
    }
    static final class UcHookDel {
        static final MethodHandle H = handle("uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    }
    static final class UcContextAlloc {
        static final MethodHandle H = handle("uc_context_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    static final class UcContextSave {
        static final MethodHandle H = handle("uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    static final class UcContextRestore {
        static final MethodHandle H = handle("uc_context_restore", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    static final class UcContextFree {
        static final MethodHandle H = handle("uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    static final class UcContextRegRead {
        static final MethodHandle H = handle("uc_context_reg_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    }

    /** Address of uc_emu_stop, stored in the native preemption struct. */
    static final MemorySegment UC_EMU_STOP_ADDR = LIB.find("uc_emu_stop").orElseThrow();

    // Upcall signatures.
    static final FunctionDescriptor CB_INSN = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
    static final FunctionDescriptor CB_INTR = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS);
    static final FunctionDescriptor CB_CODE = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    static final FunctionDescriptor CB_MEM_EVENT =
            FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
    static final FunctionDescriptor CB_INSN_INVALID = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS);

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = LIB.find(name)
                .orElseThrow(() -> new UnicornException("symbol " + name + " missing in " + Library.path()));
        return LINKER.downcallHandle(sym, fd, options);
    }

    static String strerror(int code) {
        try {
            MemorySegment s = (MemorySegment) UcStrerror.H.invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "?" : s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "?";
        }
    }

    /** Locates and version-checks libunicorn once; failures are remembered and rethrown as fresh exceptions. */
    static final class Library {
        private static SymbolLookup lookup;
        private static String path;
        private static String version;
        private static String failure;

        private Library() {}

        static synchronized SymbolLookup lookup() {
            if (lookup != null) return lookup;
            if (failure != null) throw new UnicornException(failure);
            try {
                load();
                return lookup;
            } catch (UnicornException e) {
                failure = e.getMessage();
                throw e;
            }
        }

        static synchronized String path() {
            lookup();
            return path;
        }

        static synchronized String version() {
            lookup();
            return version;
        }

        /** The library file named by the property (unless blank or an unresolved "${...}"), else by the env var. */
        static Path locate(String property, String env) {
            boolean fromProp = property != null && !property.isBlank() && !property.startsWith("${");
            String p = fromProp ? property : env;
            String from = fromProp ? "system property goemu.unicorn.lib" : "GOEMU_UNICORN_LIB";
            if (p == null || p.isBlank()) {
                throw new UnicornException("libunicorn.so.2 not found: set GOEMU_UNICORN_LIB (or -Dgoemu.unicorn.lib) to a"
                        + " libunicorn.so.2 of Unicorn >= 2.1; scripts/lib.sh ensure_unicorn installs 2.1.4");
            }
            Path file = Path.of(p);
            if (!Files.isRegularFile(file)) {
                throw new UnicornException("libunicorn.so.2 not found: " + from + "=" + p
                        + " does not exist; set GOEMU_UNICORN_LIB to a libunicorn.so.2 of Unicorn >= 2.1");
            }
            return file;
        }

        private static void load() {
            Path file = locate(System.getProperty("goemu.unicorn.lib"), System.getenv("GOEMU_UNICORN_LIB"));
            String p = file.toString();
            String from = "goemu.unicorn.lib/GOEMU_UNICORN_LIB";
            SymbolLookup l;
            try {
                l = SymbolLookup.libraryLookup(file, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new UnicornException("cannot load " + p + " (" + from + "): " + e.getMessage(), e);
            }
            MemorySegment sym = l.find("uc_version").orElseThrow(
                    () -> new UnicornException(p + " (" + from + ") is not a Unicorn library: no uc_version"));
            int v;
            try {
                v = (int) LINKER.downcallHandle(sym, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS))
                        .invokeExact(MemorySegment.NULL, MemorySegment.NULL);
            } catch (Throwable t) {
                throw new UnicornException("uc_version failed in " + p, t);
            }
            int major = (v >>> 24) & 0xff, minor = (v >>> 16) & 0xff, patch = (v >>> 8) & 0xff;
            String ver = major + "." + minor + "." + patch;
            if (major < 2 || (major == 2 && minor < 1)) {
                throw new UnicornException("Unicorn " + ver + " at " + p + " (" + from + ") is too old: goemu needs >= 2.1"
                        + " (2.0.x is about 3x slower); set GOEMU_UNICORN_LIB to a newer libunicorn.so.2");
            }
            lookup = l;
            path = p;
            version = ver;
        }
    }
}
