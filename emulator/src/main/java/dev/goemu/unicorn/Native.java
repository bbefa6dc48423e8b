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
    // it makes. Linking costs start-up several ms a call (the JDK generates code for each), and a hello world makes
    // about half of them.
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
    // The calls made per syscall and per thread switch take their pointers as raw addresses (JAVA_LONG): a
    // MemorySegment argument costs a session acquire and release and several checks per call, which were most of
    // a register access's cost.
    /** uc_reg_read2(uc, regid, value, size) and uc_reg_write2, pointers as addresses. */
    static final class UcRegRead2 {
        static final MethodHandle H = handle("uc_reg_read2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), CRITICAL);
    }
    static final class UcRegWrite2 {
        static final MethodHandle H = handle("uc_reg_write2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), CRITICAL);
    }
    /** uc_reg_read_batch(uc, regids, values, count) and uc_reg_write_batch, pointers as addresses. */
    static final class UcRegReadBatch {
        static final MethodHandle H = handle("uc_reg_read_batch",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    }
    static final class UcRegWriteBatch {
        static final MethodHandle H = handle("uc_reg_write_batch",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    }
    /** uc_emu_start(uc, begin, until, timeout, count), uc as an address. */
    static final class UcEmuStart {
        static final MethodHandle H = handle("uc_emu_start",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }
    static final class UcEmuStop {
        static final MethodHandle H = handle("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    }
    /** uc_hook_add(uc, &hh, type, cb, user_data, begin, end, ...): always called with one variadic int (the insn id, or 0). */
    static final class UcHookAdd {
        static final MethodHandle H = handle("uc_hook_add",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT),
                Linker.Option.firstVariadicArg(7));
    }
    /** uc_ctl(uc, control, ...): always called with one variadic int (the argument, or an ignored 0). */
    static final class UcCtl {
        static final MethodHandle H = handle("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2));
    }
    /** uc_ctl(uc, control, uint64, uint64) */
    static final class UcCtl2L {
        static final MethodHandle H = handle("uc_ctl",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    }
    static final class UcHookDel {
        static final MethodHandle H = handle("uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    }
    static final class UcContextAlloc {
        static final MethodHandle H = handle("uc_context_alloc",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
    /** uc_context_save(uc, context) and uc_context_restore: a memcpy of the CPU state; pointers as addresses. */
    static final class UcContextSave {
        static final MethodHandle H = handle("uc_context_save",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), CRITICAL);
    }
    static final class UcContextRestore {
        static final MethodHandle H = handle("uc_context_restore",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), CRITICAL);
    }
    static final class UcContextFree {
        static final MethodHandle H = handle("uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
    static final class UcContextRegRead {
        static final MethodHandle H = handle("uc_context_reg_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    }

    /** goemu_engine_interrupt(uc): goemu's engine patch; only sets flags, so it may be called from any thread. */
    static final class GoemuEngineInterrupt {
        static final MethodHandle H = handle("goemu_engine_interrupt",
                FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL);
    }
    /** Addresses of what the native SYSCALL hook calls, stored in its struct (see {@link FastSyscalls}). */
    static final MemorySegment UC_REG_READ_ADDR = symbol("uc_reg_read");
    static final MemorySegment UC_REG_WRITE_ADDR = symbol("uc_reg_write");
    static final MemorySegment UC_MEM_WRITE_ADDR = symbol("uc_mem_write");

    // Upcall signatures.
    /** The SYSCALL hook runs per syscall: its pointers come as addresses, so the upcall allocates no MemorySegment. */
    static final FunctionDescriptor CB_INSN = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG);
    static final FunctionDescriptor CB_INTR = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS);
    static final FunctionDescriptor CB_CODE = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    static final FunctionDescriptor CB_MEM_EVENT =
            FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
    static final FunctionDescriptor CB_INSN_INVALID = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS);

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(symbol(name), fd, options);
    }

    private static MemorySegment symbol(String name) {
        return LIB.find(name).orElseThrow(() -> new UnicornException("symbol " + name + " missing in " + Library.path()));
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
        /** What goemu_engine_patch_level must return at least: emulator/src/main/unicorn/*.patch sets it. */
        static final int PATCH_LEVEL = 1;
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
                        + " libunicorn.so.2 with goemu's engine patch, which scripts/lib.sh ensure_unicorn (./build.sh) builds");
            }
            Path file = Path.of(p);
            if (!Files.isRegularFile(file)) {
                throw new UnicornException("libunicorn.so.2 not found: " + from + "=" + p
                        + " does not exist; unset GOEMU_UNICORN_LIB to use the engine ./build.sh builds");
            }
            return file;
        }

        /**
         * goemu needs its engine patch: without it every guest store takes Unicorn's slow path (about 4x slower on
         * Go code) and stopping the engine from the time-slice timer can run an instruction twice.
         */
        private static void requirePatched(SymbolLookup l, String p, String ver) {
            int level = l.find("goemu_engine_patch_level").map(sym -> {
                try {
                    return (int) LINKER.downcallHandle(sym, FunctionDescriptor.of(JAVA_INT)).invokeExact();
                } catch (Throwable t) {
                    throw new UnicornException("goemu_engine_patch_level failed in " + p, t);
                }
            }).orElse(0);
            if (level < PATCH_LEVEL) {
                throw new UnicornException("Unicorn " + ver + " at " + p + " (goemu.unicorn.lib/GOEMU_UNICORN_LIB) lacks"
                        + " goemu's engine patch" + (level > 0 ? " level " + PATCH_LEVEL + " (it has " + level + ")" : "")
                        + ": guest stores would run about 4x slower and time slices would be unsafe; unset"
                        + " GOEMU_UNICORN_LIB to use the engine ./build.sh builds");
            }
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
            requirePatched(l, p, ver);
            lookup = l;
            path = p;
            version = ver;
        }
    }
}
