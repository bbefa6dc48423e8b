package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
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

    /**
     * Almost every libunicorn call goes through one shape, {@link Library#CALL}: the JDK generates code per shape,
     * not per function, and twenty shapes cost a hello world about 0.2 s of start-up.
     */
    /** Calls that never run guest code or hooks are "critical": no thread-state transition. */
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    static final MethodHandle UC_OPEN = call("uc_open"), UC_CLOSE = call("uc_close"), UC_STRERROR = call("uc_strerror"),
            UC_MEM_MAP = call("uc_mem_map"), UC_MEM_MAP_PTR = call("uc_mem_map_ptr"), UC_MEM_UNMAP = call("uc_mem_unmap"),
            UC_MEM_PROTECT = call("uc_mem_protect"), UC_MEM_REGIONS = call("uc_mem_regions"), UC_FREE = call("uc_free"),
            UC_EMU_START = call("uc_emu_start"), UC_EMU_STOP = call("uc_emu_stop"), UC_HOOK_DEL = call("uc_hook_del"),
            UC_CONTEXT_ALLOC = call("uc_context_alloc"), UC_CONTEXT_FREE = call("uc_context_free"),
            // goemu's engine patch: uc_hook_add and uc_ctl without variadic arguments, and the deterministic mode's
            // block count.
            GOEMU_HOOK_ADD = call("goemu_hook_add"), GOEMU_CTL = call("goemu_ctl"),
            GOEMU_ENGINE_COUNT_BLOCKS = call("goemu_engine_count_blocks");
    // The calls made per syscall and per thread switch: critical.
    static final MethodHandle UC_REG_READ2 = fast("uc_reg_read2"), UC_REG_WRITE2 = fast("uc_reg_write2"),
            UC_REG_READ_BATCH = fast("uc_reg_read_batch"), UC_REG_WRITE_BATCH = fast("uc_reg_write_batch"),
            UC_CONTEXT_SAVE = fast("uc_context_save"), UC_CONTEXT_RESTORE = fast("uc_context_restore"),
            UC_CONTEXT_REG_READ = fast("uc_context_reg_read"),
            /** goemu_engine_interrupt(uc): goemu's engine patch; only sets flags, so it may be called from any thread. */
            GOEMU_ENGINE_INTERRUPT = fast("goemu_engine_interrupt");

    /** uc_mem_read(uc, address, bytes, size) and uc_mem_write, for byte arrays too (critical calls may take heap memory). */
    static final class UcMemRead {
        static final MethodHandle H = handle("uc_mem_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
    }
    static final class UcMemWrite {
        static final MethodHandle H = handle("uc_mem_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
    }

    /** Addresses of what the native SYSCALL hook calls, stored in its struct (see {@link FastSyscalls}). */
    static final MemorySegment UC_REG_READ_ADDR = symbol("uc_reg_read");
    static final MemorySegment UC_REG_WRITE_ADDR = symbol("uc_reg_write");
    static final MemorySegment UC_MEM_WRITE_ADDR = symbol("uc_mem_write");

    /**
     * Every upcall (hook callback) has the shape of {@link Library#CALL}, for the same reason: a callback declared with fewer
     * parameters leaves the others' registers unread, and one returning bool reads the low byte of the result.
     */
    static final FunctionDescriptor UPCALL = Library.CALL;

    /** h(a0, ..., a5) of a handle of {@link Library#CALL} shape. */
    static long call(MethodHandle h, long a0, long a1, long a2, long a3, long a4, long a5) {
        try {
            return (long) h.invokeExact(a0, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw Unicorn.rethrow(t);
        }
    }

    static long call(MethodHandle h, long a0, long a1, long a2, long a3, long a4) {
        return call(h, a0, a1, a2, a3, a4, 0);
    }

    static long call(MethodHandle h, long a0, long a1, long a2) {
        return call(h, a0, a1, a2, 0, 0);
    }

    static long call(MethodHandle h, long a0) {
        return call(h, a0, 0, 0, 0, 0);
    }

    private static MethodHandle call(String name) {
        return handle(name, Library.CALL);
    }

    private static MethodHandle fast(String name) {
        return handle(name, Library.CALL, CRITICAL);
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(symbol(name), fd, options);
    }

    private static MemorySegment symbol(String name) {
        return LIB.find(name).orElseThrow(() -> new UnicornException("symbol " + name + " missing in " + Library.path()));
    }

    static String strerror(int code) {
        long s = call(UC_STRERROR, code);
        return s == 0 ? "?" : MemorySegment.ofAddress(s).reinterpret(4096).getString(0);
    }

    /** Locates and version-checks libunicorn once; failures are remembered and rethrown as fresh exceptions. */
    static final class Library {
        /**
         * Six 64-bit integers in and one out. The System V x86-64 ABI makes this exact for libunicorn's non-variadic
         * functions: int, long and pointer arguments all travel in 64-bit registers (a callee reads the low half of an
         * int's), arguments a function does not declare are ignored, and callers cast an int result from the low half.
         */
        static final FunctionDescriptor CALL = FunctionDescriptor.of(JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        /** What goemu_engine_patch_level must return at least: emulator/src/main/unicorn/*.patch sets it. */
        static final int PATCH_LEVEL = 2;
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
                    return (int) (long) LINKER.downcallHandle(sym, CALL).invokeExact(0L, 0L, 0L, 0L, 0L, 0L);
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
                v = (int) (long) LINKER.downcallHandle(sym, CALL).invokeExact(0L, 0L, 0L, 0L, 0L, 0L);
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
