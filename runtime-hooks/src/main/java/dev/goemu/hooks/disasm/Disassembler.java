package dev.goemu.hooks.disasm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An x86-64 disassembler: Capstone 5, the C library, bound with java.lang.foreign.
 *
 * <p>The text is Intel syntax ({@code lea rax, [rip + 0x1234]}). That is Capstone's default for X86, so no
 * {@code cs_option} call is made; detail mode stays off (also the default) because goemu reads only the text, from
 * which {@link Instruction} derives branch and RIP-relative targets.
 *
 * <p>Library: system property {@code goemu.capstone.lib}, else env {@code GOEMU_CAPSTONE_LIB}. {@code ensure_capstone}
 * in scripts/lib.sh installs libcapstone.so from the capstone 5.0.3 wheel, and the launcher passes it on.
 *
 * <p>Not thread-safe: a Capstone handle keeps per-call state (its error code), so use one disassembler per thread.
 */
public final class Disassembler implements AutoCloseable {
    static final String PROPERTY = "goemu.capstone.lib";
    static final String ENV = "GOEMU_CAPSTONE_LIB";
    static final String UNAVAILABLE = "disassembler unavailable: ";
    static final String REMEDY = "set GOEMU_CAPSTONE_LIB or run ./build.sh";

    // capstone.h 5.0: enum cs_arch, enum cs_mode, enum cs_err.
    private static final int CS_ARCH_X86 = 3;
    private static final int CS_MODE_64 = 1 << 3;
    private static final int CS_ERR_OK = 0;
    private static final int REQUIRED_MAJOR = 5;

    /** struct cs_insn of capstone.h 5.0. The id and detail fields are not read. */
    private static final StructLayout CS_INSN = MemoryLayout.structLayout(
            JAVA_INT.withName("id"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("address"),
            JAVA_SHORT.withName("size"),
            MemoryLayout.sequenceLayout(24, JAVA_BYTE).withName("bytes"),
            MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("mnemonic"), // CS_MNEMONIC_SIZE
            MemoryLayout.sequenceLayout(160, JAVA_BYTE).withName("op_str"),
            MemoryLayout.paddingLayout(6),
            ADDRESS.withName("detail"));
    private static final long INSN_ADDRESS = CS_INSN.byteOffset(groupElement("address"));
    private static final long INSN_SIZE = CS_INSN.byteOffset(groupElement("size"));
    private static final long INSN_BYTES = CS_INSN.byteOffset(groupElement("bytes"));
    private static final long INSN_MNEMONIC = CS_INSN.byteOffset(groupElement("mnemonic"));
    private static final long INSN_OP_STR = CS_INSN.byteOffset(groupElement("op_str"));

    private final Library lib;
    private final long handle; // csh
    private boolean closed;

    private Disassembler(Library lib, long handle) {
        this.lib = lib;
        this.handle = handle;
    }

    /** cs_open(CS_ARCH_X86, CS_MODE_64) on the configured libcapstone, which must be Capstone 5. */
    public static Disassembler openX86_64() throws DisassemblerUnavailableException {
        return openX86_64(System.getProperty(PROPERTY), System.getenv(ENV));
    }

    /** {@link #openX86_64()} with the property and environment values given. */
    static Disassembler openX86_64(String property, String env) throws DisassemblerUnavailableException {
        Library lib = Library.load(locate(property, env));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handleBox = arena.allocate(JAVA_LONG);
            int err = lib.open(CS_ARCH_X86, CS_MODE_64, handleBox);
            if (err != CS_ERR_OK) {
                throw new DisassemblerUnavailableException(
                        UNAVAILABLE + "cs_open(CS_ARCH_X86, CS_MODE_64): " + lib.strerror(err));
            }
            return new Disassembler(lib, handleBox.get(JAVA_LONG, 0));
        }
    }

    private static Path locate(String property, String env) throws DisassemblerUnavailableException {
        // Maven leaves "${env.GOEMU_CAPSTONE_LIB}" unresolved in the property when the variable is unset.
        boolean fromProperty = property != null && !property.isBlank() && !property.startsWith("${");
        String value = fromProperty ? property : env;
        if (value == null || value.isBlank()) throw new DisassemblerUnavailableException(UNAVAILABLE + REMEDY);
        Path file = Path.of(value);
        if (!Files.isRegularFile(file)) {
            throw new DisassemblerUnavailableException(
                    UNAVAILABLE + (fromProperty ? PROPERTY : ENV) + "=" + value + " does not exist; " + REMEDY);
        }
        return file;
    }

    /**
     * Decodes at most {@code maxCount} instructions from {@code code}, whose first byte is at {@code address}.
     * Decoding stops early at the end of {@code code} or at the first bytes that are no valid instruction, so the
     * list may be shorter than asked, or empty.
     */
    public List<Instruction> disassemble(byte[] code, long address, int maxCount) {
        if (maxCount < 0) throw new IllegalArgumentException("maxCount " + maxCount + " is negative");
        if (closed) throw new IllegalStateException("disassembler closed");
        if (code.length == 0 || maxCount == 0) return List.of(); // cs_disasm's count 0 would mean "all of them"
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insnsBox = arena.allocate(ADDRESS);
            long count = lib.disasm(handle, arena.allocateFrom(JAVA_BYTE, code), code.length, address, maxCount, insnsBox);
            if (count == 0) {
                int err = lib.errno(handle);
                if (err != CS_ERR_OK) {
                    throw new IllegalStateException(
                            "cs_disasm at 0x" + Long.toHexString(address) + ": " + lib.strerror(err));
                }
                return List.of();
            }
            MemorySegment insns = insnsBox.get(ADDRESS, 0).reinterpret(count * CS_INSN.byteSize());
            try {
                List<Instruction> out = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) out.add(read(insns.asSlice(i * CS_INSN.byteSize(), CS_INSN)));
                return List.copyOf(out);
            } finally {
                lib.free(insns, count);
            }
        }
    }

    private static Instruction read(MemorySegment insn) {
        int size = Short.toUnsignedInt(insn.get(JAVA_SHORT, INSN_SIZE));
        return new Instruction(insn.get(JAVA_LONG, INSN_ADDRESS), size,
                insn.asSlice(INSN_BYTES, size).toArray(JAVA_BYTE), insn.getString(INSN_MNEMONIC),
                insn.getString(INSN_OP_STR));
    }

    /** cs_close. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            lib.close(arena.allocateFrom(JAVA_LONG, handle));
        }
    }

    /** The downcalls into one libcapstone file, bound once and kept for the life of the JVM. */
    private static final class Library {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final Map<Path, Library> LOADED = new HashMap<>();

        private final MethodHandle csOpen, csClose, csErrno, csStrerror, csDisasm, csFree;

        private Library(Path file, SymbolLookup symbols) throws DisassemblerUnavailableException {
            csOpen = downcall(file, symbols, "cs_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
            csClose = downcall(file, symbols, "cs_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            csErrno = downcall(file, symbols, "cs_errno", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
            csStrerror = downcall(file, symbols, "cs_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            csDisasm = downcall(file, symbols, "cs_disasm",
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
            csFree = downcall(file, symbols, "cs_free", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));
        }

        static synchronized Library load(Path file) throws DisassemblerUnavailableException {
            Library lib = LOADED.get(file);
            if (lib != null) return lib;
            SymbolLookup symbols;
            try {
                symbols = SymbolLookup.libraryLookup(file, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new DisassemblerUnavailableException(UNAVAILABLE + "cannot load " + file + ": " + e.getMessage(), e);
            }
            int version;
            try {
                version = (int) downcall(file, symbols, "cs_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS))
                        .invokeExact(MemorySegment.NULL, MemorySegment.NULL);
            } catch (DisassemblerUnavailableException e) {
                throw e;
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
            int major = version >>> 8, minor = version & 0xff; // (major << 8) + minor
            if (major != REQUIRED_MAJOR) {
                throw new DisassemblerUnavailableException(UNAVAILABLE + file + " is Capstone " + major + "." + minor
                        + ", goemu needs " + REQUIRED_MAJOR + ".x; " + REMEDY);
            }
            lib = new Library(file, symbols);
            LOADED.put(file, lib);
            return lib;
        }

        private static MethodHandle downcall(Path file, SymbolLookup symbols, String name, FunctionDescriptor fd)
                throws DisassemblerUnavailableException {
            MemorySegment symbol = symbols.find(name).orElseThrow(() -> new DisassemblerUnavailableException(
                    UNAVAILABLE + file + " is not a Capstone library: it has no " + name + "; " + REMEDY));
            return LINKER.downcallHandle(symbol, fd);
        }

        int open(int arch, int mode, MemorySegment handleBox) {
            try {
                return (int) csOpen.invokeExact(arch, mode, handleBox);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        /** Fails (CS_ERR_CSH) only for a handle cs_open never made. */
        int close(MemorySegment handleBox) {
            try {
                return (int) csClose.invokeExact(handleBox);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        int errno(long handle) {
            try {
                return (int) csErrno.invokeExact(handle);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        /** cs_strerror's text, which names the code too: "Out of memory (CS_ERR_MEM)". */
        String strerror(int err) {
            try {
                MemorySegment text = (MemorySegment) csStrerror.invokeExact(err);
                return text.equals(MemorySegment.NULL) ? "cs_err " + err : text.reinterpret(1024).getString(0);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        long disasm(long handle, MemorySegment code, long size, long address, long count, MemorySegment insnsBox) {
            try {
                return (long) csDisasm.invokeExact(handle, code, size, address, count, insnsBox);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        void free(MemorySegment insns, long count) {
            try {
                csFree.invokeExact(insns, count);
            } catch (Throwable t) {
                throw downcallFailed(t);
            }
        }

        /** A downcall itself throws only when the binding is wrong; surface that unchanged if unchecked. */
        private static RuntimeException downcallFailed(Throwable t) {
            if (t instanceof RuntimeException r) return r;
            if (t instanceof Error e) throw e;
            return new IllegalStateException("libcapstone downcall failed", t);
        }
    }
}
