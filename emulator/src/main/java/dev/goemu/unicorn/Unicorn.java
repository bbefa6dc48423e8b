package dev.goemu.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * One Unicorn 2 x86-64 engine, bound through java.lang.foreign.
 *
 * <p>Not thread-safe: use an engine from one thread at a time; hooks run on the thread that called {@link #start}.
 * The only call meant for other threads is {@link #interrupt()}. Every hook is wrapped so that no Java
 * exception reaches native code: a throwing hook stops the engine and its exception is rethrown by {@link #start}.
 * Upcall stubs live in an arena owned by the engine and are freed by {@link #close()}.
 *
 * <p>Library: system property {@code goemu.unicorn.lib}, else env {@code GOEMU_UNICORN_LIB}: Unicorn 2.1 with goemu's
 * engine patch ({@code emulator/src/main/unicorn/}), which {@code scripts/lib.sh} builds.
 */
public final class Unicorn implements AutoCloseable {
    private static final int UC_ARCH_X86 = 4;
    private static final int UC_MODE_64 = 8;
    private static final int UC_HOOK_INTR = 1;
    private static final int UC_HOOK_INSN = 2;
    private static final int UC_HOOK_CODE = 4;
    private static final int UC_HOOK_BLOCK = 8;
    private static final int UC_HOOK_MEM_INVALID = 1008; // READ/WRITE/FETCH x UNMAPPED/PROT
    private static final int UC_HOOK_INSN_INVALID = 16384;
    private static final int UC_X86_INS_SYSCALL = 699, UC_X86_INS_RDTSC = 608, UC_X86_INS_RDTSCP = 609;
    private static final int UC_CTL_WRITE = 1 << 30;
    private static final int UC_CTL_UC_USE_EXITS = 4;
    private static final int UC_CTL_CPU_MODEL = 7;
    private static final int UC_CTL_TB_REMOVE_CACHE = 9;
    private static final int UC_CTL_TB_FLUSH = 10;
    private static final int SCRATCH = 4096;
    private static final int MAX_REG_BYTES = 64; // ZMM

    private static final MethodHandle UP_INSN, UP_INTR, UP_CODE, UP_MEM, UP_INSN_INVALID;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            UP_INSN = upcallTarget(l, "insnUpcall", Runnable.class);
            UP_INTR = upcallTarget(l, "intrUpcall", InterruptHandler.class);
            UP_CODE = upcallTarget(l, "codeUpcall", CodeHandler.class);
            UP_MEM = upcallTarget(l, "memUpcall", MemoryFaultHandler.class);
            UP_INSN_INVALID = upcallTarget(l, "insnInvalidUpcall", InvalidInstructionHandler.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** An upcall target: the handler, then the callback's arguments in {@link Native#UPCALL}'s shape. */
    private static MethodHandle upcallTarget(MethodHandles.Lookup l, String name, Class<?> handler)
            throws ReflectiveOperationException {
        return l.findVirtual(Unicorn.class, name, MethodType.methodType(long.class, handler,
                long.class, long.class, long.class, long.class, long.class, long.class));
    }

    private final Arena arena;          // upcall stubs, scratch buffers, preemption state; closed by close()
    private final MemorySegment uc;     // uc_engine *
    private final MemorySegment scratch; // register values and small memory transfers
    private final MemorySegment sizeBox; // size_t in/out for uc_reg_*2
    private final long ucAddress, scratchAddress, sizeBoxAddress; // the same, for the calls that take addresses
    private final MemorySegment outBox;  // out-parameters (pointers, hook handles, counts)
    private final MemorySegment hookSpec; // goemu_hook_add's {begin, end, insn}
    private final Set<Context> contexts = Collections.newSetFromMap(new IdentityHashMap<>());
    private Throwable pending;           // first exception thrown by a hook during the current start()
    private int running;                 // nesting depth of start()
    private boolean closed;
    /** Guards {@link #interrupt()}, the one call from other threads, against the engine being freed under it. */
    private final Object interruptLock = new Object();
    private boolean interruptClosed;

    private Unicorn(Arena arena, MemorySegment uc) {
        this.arena = arena;
        this.uc = uc;
        // Unscoped views of the arena's memory: their accesses skip the shared session's liveness checks. Every
        // use follows checkOpen(), and the memory lives until close().
        this.scratch = unscoped(arena.allocate(SCRATCH, 16));
        this.sizeBox = unscoped(arena.allocate(JAVA_LONG));
        this.outBox = arena.allocate(16, 8);
        this.hookSpec = arena.allocate(24, 8);
        this.ucAddress = uc.address();
        this.scratchAddress = scratch.address();
        this.sizeBoxAddress = sizeBox.address();
    }

    /** uc_open(UC_ARCH_X86, UC_MODE_64). */
    public static Unicorn openX86_64() {
        Native.Library.lookup();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            int err = (int) Native.call(Native.UC_OPEN, UC_ARCH_X86, UC_MODE_64, out.address());
            if (err != 0) throw error(err, "uc_open(UC_ARCH_X86, UC_MODE_64)");
            return new Unicorn(arena, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            arena.close();
            throw rethrow(t);
        }
    }

    /** Version of the loaded library, e.g. "2.1.4". */
    public static String libraryVersion() {
        return Native.Library.version();
    }

    /** Path of the loaded libunicorn. */
    public static String libraryPath() {
        return Native.Library.path();
    }

    // ---------------------------------------------------------------- memory

    /** uc_mem_map_ptr: guest [addr, addr+size) is backed by {@code host} (native, page-aligned), owned by the caller. */
    public void mapPtr(long addr, long size, int perms, MemorySegment host) {
        checkOpen();
        if (!host.isNative()) throw new IllegalArgumentException("mapPtr needs native memory, got a heap segment");
        if (host.byteSize() < size) {
            throw new IllegalArgumentException("host segment of " + host.byteSize() + " bytes is smaller than 0x"
                    + Long.toHexString(size));
        }
        int err = (int) Native.call(Native.UC_MEM_MAP_PTR, ucAddress, addr, size, perms, host.address());
        check(err, "uc_mem_map_ptr(" + hex(addr) + ", " + hex(size) + ", " + Perm.toString(perms) + ")");
    }

    /** uc_mem_map: memory allocated and owned by Unicorn. */
    public void map(long addr, long size, int perms) {
        checkOpen();
        int err = (int) Native.call(Native.UC_MEM_MAP, ucAddress, addr, size, perms, 0);
        check(err, "uc_mem_map(" + hex(addr) + ", " + hex(size) + ", " + Perm.toString(perms) + ")");
    }

    /** uc_mem_unmap; a part of a region (also a mapPtr one) may be unmapped, splitting it. */
    public void unmap(long addr, long size) {
        checkOpen();
        int err = (int) Native.call(Native.UC_MEM_UNMAP, ucAddress, addr, size);
        check(err, "uc_mem_unmap(" + hex(addr) + ", " + hex(size) + ")");
    }

    /** uc_mem_protect; a part of a region (also a mapPtr one) may be changed, splitting it. */
    public void protect(long addr, long size, int perms) {
        checkOpen();
        int err = (int) Native.call(Native.UC_MEM_PROTECT, ucAddress, addr, size, perms, 0);
        check(err, "uc_mem_protect(" + hex(addr) + ", " + hex(size) + ", " + Perm.toString(perms) + ")");
    }

    /**
     * uc_ctl_remove_cache: drops translated code in [begin, end). Needed after rewriting code that already ran when
     * the write does not invalidate it by itself: Unicorn 2.1.4 keeps a stale block that consists of a lone
     * {@code int3} (a debugger restoring the byte under a software breakpoint must call this).
     */
    public void invalidateCode(long begin, long end) {
        checkOpen();
        int err = ctl(UC_CTL_WRITE | (2 << 26) | UC_CTL_TB_REMOVE_CACHE, begin, end);
        check(err, "uc_ctl_remove_cache(" + hex(begin) + ", " + hex(end) + ")");
    }

    /**
     * uc_ctl_exits_enable with no exits: from now on {@link #start(long, long)}'s {@code until} is ignored, and
     * {@link #start(long)} no longer stops at address 0 (where a guest that jumps to 0 must fault instead).
     */
    public void disableExits() {
        checkOpen();
        int err = ctl(UC_CTL_WRITE | (1 << 26) | UC_CTL_UC_USE_EXITS, 1, 0);
        check(err, "uc_ctl_exits_enable");
    }

    /** uc_ctl_flush_tb: drops all translated code. */
    public void flushCode() {
        checkOpen();
        int err = ctl(UC_CTL_WRITE | UC_CTL_TB_FLUSH, 0, 0);
        check(err, "uc_ctl_flush_tb");
    }

    /**
     * uc_ctl_set_cpu_model ({@link X86.Cpu}): decides what CPUID reports. Unicorn 2.1.4's default is Haswell;
     * AVX/AVX2 stay off with every model (its TCG masks them), so Go takes its SSE paths. Only on a fresh engine:
     * before any map, register access or hook.
     */
    public void setCpuModel(int model) {
        checkOpen();
        int err = ctl(UC_CTL_WRITE | (1 << 26) | UC_CTL_CPU_MODEL, model, 0);
        check(err, "uc_ctl_set_cpu_model(" + model + ")" + (err == UnicornException.ARG
                ? " [only before the engine is first used: map, register access, hook]" : ""));
    }

    /** Reads guest memory (ignores page permissions, fails on unmapped bytes). */
    public byte[] read(long addr, int len) {
        byte[] out = new byte[len];
        read(addr, MemorySegment.ofArray(out));
        return out;
    }

    /** Reads {@code dst.byteSize()} bytes of guest memory into {@code dst} (heap or native). */
    public void read(long addr, MemorySegment dst) {
        checkOpen();
        long len = dst.byteSize();
        int err;
        try {
            err = (int) Native.UcMemRead.H.invokeExact(uc, addr, dst, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(err, "uc_mem_read(" + hex(addr) + ", " + hex(len) + ")");
    }

    /** Writes guest memory (ignores page permissions, fails on unmapped bytes). */
    public void write(long addr, byte[] data) {
        write(addr, MemorySegment.ofArray(data));
    }

    /** Writes all of {@code src} (heap or native) to guest memory. */
    public void write(long addr, MemorySegment src) {
        checkOpen();
        long len = src.byteSize();
        int err;
        try {
            err = (int) Native.UcMemWrite.H.invokeExact(uc, addr, src, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(err, "uc_mem_write(" + hex(addr) + ", " + hex(len) + ")");
    }

    /** A mapped region as Unicorn reports it: [begin, end] with end INCLUSIVE. */
    public record Region(long begin, long end, int perms) {
        @Override
        public String toString() {
            return hex(begin) + "-" + hex(end) + " " + Perm.toString(perms);
        }
    }

    /** uc_mem_regions: the current mappings, sorted by address. */
    public List<Region> regions() {
        checkOpen();
        outBox.fill((byte) 0);
        MemorySegment countBox = outBox.asSlice(8, 4);
        int err = (int) Native.call(Native.UC_MEM_REGIONS, ucAddress, outBox.address(), countBox.address());
        check(err, "uc_mem_regions");
        int count = countBox.get(JAVA_INT, 0);
        MemorySegment array = outBox.get(ADDRESS, 0);
        List<Region> out = new ArrayList<>(count);
        if (array.equals(MemorySegment.NULL)) return out;
        MemorySegment a = array.reinterpret(24L * count);
        for (int i = 0; i < count; i++) {
            out.add(new Region(a.get(JAVA_LONG, 24L * i), a.get(JAVA_LONG, 24L * i + 8), a.get(JAVA_INT, 24L * i + 16)));
        }
        Native.call(Native.UC_FREE, array.address());
        return out;
    }

    // ---------------------------------------------------------------- registers

    /** Reads a register of at most 8 bytes (narrower ones are zero-extended). */
    public long reg(int regId) {
        checkOpen();
        sizeBox.set(JAVA_LONG, 0, 8);
        int err;
        try {
            err = (int) (long) Native.UC_REG_READ2.invokeExact(ucAddress, (long) regId, scratchAddress, sizeBoxAddress, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (err != 0) {
            throw error(err, "uc_reg_read(" + X86.name(regId) + ")"
                    + (err == UnicornException.OVERFLOW ? " [wider than 8 bytes: use regBytes]" : ""));
        }
        long v = scratch.get(JAVA_LONG, 0);
        long n = sizeBox.get(JAVA_LONG, 0);
        return n >= 8 ? v : v & ((1L << (8 * n)) - 1);
    }

    /** Writes a register of at most 8 bytes (narrower ones take the low bytes of {@code value}). */
    public void setReg(int regId, long value) {
        checkOpen();
        scratch.set(JAVA_LONG, 0, value);
        sizeBox.set(JAVA_LONG, 0, 8);
        int err;
        try {
            err = (int) (long) Native.UC_REG_WRITE2.invokeExact(ucAddress, (long) regId, scratchAddress, sizeBoxAddress, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (err != 0) {
            throw error(err, "uc_reg_write(" + X86.name(regId) + ", " + hex(value) + ")"
                    + (err == UnicornException.OVERFLOW ? " [wider than 8 bytes: use setRegBytes]" : ""));
        }
    }

    /** Reads a register as little-endian bytes: XMM 16, YMM 32, ST 10 (mantissa, then sign+exponent). */
    public byte[] regBytes(int regId, int size) {
        checkOpen();
        if (size <= 0 || size > MAX_REG_BYTES) throw new IllegalArgumentException("register size " + size);
        scratch.asSlice(0, MAX_REG_BYTES).fill((byte) 0);
        sizeBox.set(JAVA_LONG, 0, size);
        int err = (int) Native.call(Native.UC_REG_READ2, ucAddress, regId, scratchAddress, sizeBoxAddress, 0);
        if (err != 0) throw error(err, "uc_reg_read(" + X86.name(regId) + ", " + size + " bytes)");
        return scratch.asSlice(0, size).toArray(JAVA_BYTE);
    }

    /** Writes a register from little-endian bytes (see {@link #regBytes}). */
    public void setRegBytes(int regId, byte[] value) {
        checkOpen();
        if (value.length == 0 || value.length > MAX_REG_BYTES) {
            throw new IllegalArgumentException("register size " + value.length);
        }
        MemorySegment.copy(value, 0, scratch, JAVA_BYTE, 0, value.length);
        sizeBox.set(JAVA_LONG, 0, value.length);
        int err = (int) Native.call(Native.UC_REG_WRITE2, ucAddress, regId, scratchAddress, sizeBoxAddress, 0);
        if (err != 0) throw error(err, "uc_reg_write(" + X86.name(regId) + ", " + value.length + " bytes)");
    }

    /**
     * Sets the x87/SSE control state a Linux process starts with: FPCW 0x037f, MXCSR 0x1f80, all x87 registers
     * empty. Unicorn 2.1.4 resets FPCW and MXCSR to 0 (24-bit x87 precision, all exceptions unmasked).
     */
    public void setLinuxFpuDefaults() {
        setReg(X86.FPCW, 0x037f);
        setReg(X86.MXCSR, 0x1f80);
        setReg(X86.FPTAG, 0xffff);
    }

    /**
     * A fixed list of 8-byte registers (general, RIP, RFLAGS, FS/GS base) read or written with one call: the
     * SYSCALL hook needs nine of them per syscall. Its memory lives in the engine's arena.
     */
    public RegisterBatch batch(int... regIds) {
        checkOpen();
        for (int id : regIds) {
            sizeBox.set(JAVA_LONG, 0, 8);
            int err = (int) Native.call(Native.UC_REG_READ2, ucAddress, id, scratchAddress, sizeBoxAddress, 0);
            if (err != 0 || sizeBox.get(JAVA_LONG, 0) != 8) {
                throw new IllegalArgumentException(X86.name(id) + " is not an 8-byte register");
            }
        }
        int n = regIds.length;
        MemorySegment ids = arena.allocate(4L * n, 4), values = arena.allocate(8L * n, 8), pointers = arena.allocate(8L * n, 8);
        for (int i = 0; i < n; i++) {
            ids.set(JAVA_INT, 4L * i, regIds[i]);
            pointers.set(JAVA_LONG, 8L * i, values.address() + 8L * i);
        }
        return new RegisterBatch(this, n, ids.address(), pointers.address(), unscoped(values));
    }

    /** uc_reg_read_batch or uc_reg_write_batch ({@code f}) of a {@link RegisterBatch}. */
    void batchCall(MethodHandle f, long ids, long pointers, int count) {
        checkOpen();
        int err;
        try {
            err = (int) (long) f.invokeExact(ucAddress, ids, pointers, (long) count, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (err != 0) throw error(err, f == Native.UC_REG_READ_BATCH ? "uc_reg_read_batch" : "uc_reg_write_batch");
    }

    // ---------------------------------------------------------------- running

    /**
     * uc_emu_start(begin, until=0, timeout=0, count=0): runs until a hook stops the engine, an error, or RIP = 0.
     * If a hook threw, that exception is rethrown here (RuntimeException/Error as is); else a failing uc_err
     * becomes a {@link UnicornException}. After a stop, resume with {@code start(reg(X86.RIP))}.
     */
    public void start(long begin) {
        start(begin, 0);
    }

    /** Like {@link #start(long)}, also stopping when execution reaches {@code until} (Unicorn's exit address). */
    public void start(long begin, long until) {
        checkOpen();
        Throwable outer = pending;
        pending = null;
        running++;
        int err;
        try {
            err = (int) (long) Native.UC_EMU_START.invokeExact(ucAddress, begin, until, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            running--;
        }
        Throwable thrown = pending;
        pending = outer;
        if (thrown != null) {
            if (err != 0) thrown.addSuppressed(error(err, "uc_emu_start(" + hex(begin) + ") after the hook failed"));
            throw rethrow(thrown);
        }
        if (err != 0) throw error(err, "uc_emu_start(" + hex(begin) + ")"); // the message only then: this runs per switch
    }

    /** uc_emu_stop. Call it from a hook (synchronous, safe); from another thread it is NOT considered safe. */
    public void stop() {
        checkOpen();
        int err;
        try {
            err = (int) (long) Native.UC_EMU_STOP.invokeExact(ucAddress, 0L, 0L, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(err, "uc_emu_stop");
    }

    // ---------------------------------------------------------------- hooks

    /**
     * UC_HOOK_INSN for SYSCALL. Inside the handler RIP points at the {@code 0f 05}; Unicorn adds 2 to RIP after the
     * handler returns, even to a RIP the handler wrote (to continue at X, write X - 2; or stop and set RIP after
     * start returns). After {@link #stop()} from the handler, {@link #start} returns with RIP past the syscall:
     * resume with {@code start(reg(X86.RIP))}. The hook does not set RCX/R11 as a real SYSCALL would.
     */
    public Hook onSyscall(Runnable handler) {
        MemorySegment stub = upcall(UP_INSN, handler);
        return new Hook(this, hookAdd(UC_HOOK_INSN, stub, MemorySegment.NULL, 1, 0, UC_X86_INS_SYSCALL, "SYSCALL"));
    }

    /**
     * The SYSCALL hook of libgoemu_hooks.so ({@link FastSyscalls}), enabled: it answers the time syscalls in C and
     * calls {@code handler} for all others, as {@link #onSyscall} would. Its answers set RCX and R11 as SYSCALL does;
     * for the others that stays the handler's job.
     */
    public FastSyscalls onSyscallWithFastPath(Runnable handler) {
        return onSyscallWithFastPath(handler, 0);
    }

    /**
     * As {@link #onSyscallWithFastPath(Runnable)}; with {@code nsPerBlock} > 0, deterministic mode: the translated
     * blocks count themselves and the engine stops at the end of the slice, and the clocks and RDTSC are virtual
     * (see {@link FastSyscalls}). The slice starts empty: set one before each start.
     */
    public FastSyscalls onSyscallWithFastPath(Runnable handler, long nsPerBlock) {
        MemorySegment stub = upcall(UP_INSN, handler);
        MemorySegment state = arena.allocate(FastSyscalls.STATE_SIZE, 8);
        state.set(ADDRESS, FastSyscalls.JAVA_HOOK_OFFSET, stub);
        state.set(ADDRESS, FastSyscalls.REG_READ_OFFSET, Native.UC_REG_READ_ADDR);
        state.set(ADDRESS, FastSyscalls.REG_WRITE_OFFSET, Native.UC_REG_WRITE_ADDR);
        state.set(ADDRESS, FastSyscalls.MEM_WRITE_OFFSET, Native.UC_MEM_WRITE_ADDR);
        FastSyscalls fast = new FastSyscalls(state);
        fast.setEnabled(true);
        hookAdd(UC_HOOK_INSN, HooksLibrary.syscallHook(), state, 1, 0, UC_X86_INS_SYSCALL, "SYSCALL goemu_syscall_hook");
        if (nsPerBlock > 0) {
            state.set(JAVA_INT, FastSyscalls.VIRTUAL_TIME_OFFSET, 1);
            state.set(JAVA_LONG, FastSyscalls.NS_PER_BLOCK_OFFSET, nsPerBlock);
            hookAdd(UC_HOOK_INSN, HooksLibrary.rdtscHook(), state, 1, 0, UC_X86_INS_RDTSC, "RDTSC goemu_rdtsc_hook");
            hookAdd(UC_HOOK_INSN, HooksLibrary.rdtscpHook(), state, 1, 0, UC_X86_INS_RDTSCP, "RDTSCP goemu_rdtscp_hook");
            // Last: it drops the code translated so far, which does not count itself.
            check((int) Native.call(Native.GOEMU_ENGINE_COUNT_BLOCKS, ucAddress, outBox.address(), 0),
                    "goemu_engine_count_blocks");
            state.set(ADDRESS, FastSyscalls.BLOCKS_LEFT_OFFSET, outBox.get(ADDRESS, 0));
        }
        return fast;
    }

    /** UC_HOOK_MEM_INVALID: accesses to unmapped or protected memory (type = a {@link MemType} constant). */
    public Hook onInvalidMemory(MemoryFaultHandler handler) {
        MemorySegment stub = upcall(UP_MEM, handler);
        return new Hook(this, hookAdd(UC_HOOK_MEM_INVALID, stub, MemorySegment.NULL, 1, 0, 0, "UC_HOOK_MEM_INVALID"));
    }

    /** UC_HOOK_INTR: CPU exceptions and {@code int n} (see {@link InterruptHandler} for what is reported how). */
    public Hook onInterrupt(InterruptHandler handler) {
        MemorySegment stub = upcall(UP_INTR, handler);
        return new Hook(this, hookAdd(UC_HOOK_INTR, stub, MemorySegment.NULL, 1, 0, 0, "UC_HOOK_INTR"));
    }

    /** UC_HOOK_INSN_INVALID: undefined opcodes such as {@code ud2}, RIP at the instruction. */
    public Hook onInvalidInstruction(InvalidInstructionHandler handler) {
        MemorySegment stub = upcall(UP_INSN_INVALID, handler);
        return new Hook(this, hookAdd(UC_HOOK_INSN_INVALID, stub, MemorySegment.NULL, 1, 0, 0, "UC_HOOK_INSN_INVALID"));
    }

    /**
     * UC_HOOK_CODE on [begin, end] (inclusive; begin > end = everywhere). Debugger only: ~40x slower. Code and block
     * hooks are compiled into translated blocks, and uc_hook_add does not drop old translations, so this flushes
     * them; added from inside a hook (while running) it only affects blocks translated afterwards.
     */
    public Hook onCode(long begin, long end, CodeHandler handler) {
        MemorySegment stub = upcall(UP_CODE, handler);
        Hook h = new Hook(this, hookAdd(UC_HOOK_CODE, stub, MemorySegment.NULL, begin, end, 0, "UC_HOOK_CODE"));
        flushCodeIfIdle();
        return h;
    }

    /** UC_HOOK_BLOCK on [begin, end] (inclusive; begin > end = everywhere). Debugger only: ~5x slower. See onCode. */
    public Hook onBlock(long begin, long end, CodeHandler handler) {
        MemorySegment stub = upcall(UP_CODE, handler);
        Hook h = new Hook(this, hookAdd(UC_HOOK_BLOCK, stub, MemorySegment.NULL, begin, end, 0, "UC_HOOK_BLOCK"));
        flushCodeIfIdle();
        return h;
    }

    /**
     * Thread-safe, from any thread: the running engine stops at the start of its next translated block, before the
     * block's hooks (goemu's engine patch, {@code goemu_engine_interrupt}), so no instruction is cut and no hook runs
     * twice; {@link #start} then returns normally, RIP at that block. Called while the engine is not running, the
     * next {@link #start} returns before running anything. Ignored once the engine is closed.
     */
    public void interrupt() {
        synchronized (interruptLock) {
            if (interruptClosed) return;
            try {
                long ignored = (long) Native.GOEMU_ENGINE_INTERRUPT.invokeExact(ucAddress, 0L, 0L, 0L, 0L, 0L);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** Drops translated code so that a new code/block hook reaches blocks that already ran; not while running. */
    private void flushCodeIfIdle() {
        if (running == 0) flushCode();
    }

    // ---------------------------------------------------------------- contexts

    /** uc_context_alloc: a CPU-state snapshot bound to this engine (freed by its close() or the engine's). */
    public Context newContext() {
        checkOpen();
        int err = (int) Native.call(Native.UC_CONTEXT_ALLOC, ucAddress, outBox.address(), 0);
        check(err, "uc_context_alloc");
        Context c = new Context(this, outBox.get(ADDRESS, 0));
        contexts.add(c);
        return c;
    }

    void contextSave(MemorySegment ctx) {
        checkOpen();
        check(callFast(Native.UC_CONTEXT_SAVE, ctx.address()), "uc_context_save");
    }

    void contextRestore(MemorySegment ctx) {
        checkOpen();
        check(callFast(Native.UC_CONTEXT_RESTORE, ctx.address()), "uc_context_restore");
    }

    long contextReg(MemorySegment ctx, int regId) {
        checkOpen();
        scratch.set(JAVA_LONG, 0, 0);
        int err;
        try {
            err = (int) (long) Native.UC_CONTEXT_REG_READ.invokeExact(ctx.address(), (long) regId, scratchAddress, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(err, "uc_context_reg_read(" + X86.name(regId) + ")");
        return scratch.get(JAVA_LONG, 0);
    }

    void contextFree(Context c, MemorySegment ctx) {
        if (closed || !contexts.remove(c)) return;
        Native.call(Native.UC_CONTEXT_FREE, ctx.address());
    }

    // ---------------------------------------------------------------- lifetime

    /** uc_close, then frees contexts and upcall stubs. Idempotent. Not from inside a hook. */
    @Override
    public void close() {
        if (closed) return;
        if (running > 0) throw new IllegalStateException("Unicorn.close() called while the engine runs (from a hook?)");
        closed = true;
        synchronized (interruptLock) {
            interruptClosed = true;
        }
        for (Context c : contexts) {
            MemorySegment ctx = c.handle();
            Native.call(Native.UC_CONTEXT_FREE, c.handle().address());
        }
        contexts.clear();
        try {
            Native.call(Native.UC_CLOSE, ucAddress);
        } finally {
            arena.close();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- internals

    void hookDel(long handle) {
        if (closed) return;
        check((int) Native.call(Native.UC_HOOK_DEL, ucAddress, handle, 0), "uc_hook_del");
    }

    private long hookAdd(int type, MemorySegment callback, MemorySegment userData, long begin, long end, int extra,
                         String what) {
        checkOpen();
        outBox.set(JAVA_LONG, 0, 0);
        hookSpec.set(JAVA_LONG, 0, begin);
        hookSpec.set(JAVA_LONG, 8, end);
        hookSpec.set(JAVA_LONG, 16, extra);
        int err = (int) Native.call(Native.GOEMU_HOOK_ADD, ucAddress, outBox.address(), type, callback.address(),
                userData.address(), hookSpec.address());
        check(err, "uc_hook_add(" + what + ")");
        return outBox.get(JAVA_LONG, 0);
    }

    private MemorySegment upcall(MethodHandle target, Object handler) {
        checkOpen();
        if (handler == null) throw new NullPointerException("handler");
        MethodHandle mh = MethodHandles.insertArguments(target.bindTo(this), 0, handler);
        return Native.LINKER.upcallStub(mh, Native.UPCALL, arena);
    }

    // The upcall targets: each catches everything, since an exception escaping into native code kills the JVM. Their
    // parameters are the callback's (uc first), as 64-bit values: an int parameter is the low half of its register,
    // and those the callback does not have are unused.

    /** void cb(uc, user_data) */
    private long insnUpcall(Runnable h, long ucp, long user, long unused2, long unused3, long unused4, long unused5) {
        try {
            h.run();
        } catch (Throwable t) {
            hookFailed(t);
        }
        return 0;
    }

    /** void cb(uc, uint32_t intno, user_data) */
    private long intrUpcall(InterruptHandler h, long ucp, long intno, long user, long unused3, long unused4, long unused5) {
        try {
            h.handle((int) intno);
        } catch (Throwable t) {
            hookFailed(t);
        }
        return 0;
    }

    /** void cb(uc, uint64_t address, uint32_t size, user_data) */
    private long codeUpcall(CodeHandler h, long ucp, long address, long size, long user, long unused4, long unused5) {
        try {
            h.handle(address, (int) size);
        } catch (Throwable t) {
            hookFailed(t);
        }
        return 0;
    }

    /** bool cb(uc, uc_mem_type type, uint64_t address, int size, int64_t value, user_data) */
    private long memUpcall(MemoryFaultHandler h, long ucp, long type, long address, long size, long value, long user) {
        try {
            return h.handle((int) type, address, (int) size, value) ? 1 : 0;
        } catch (Throwable t) {
            hookFailed(t);
            return 0;
        }
    }

    /** bool cb(uc, user_data) */
    private long insnInvalidUpcall(InvalidInstructionHandler h, long ucp, long user, long unused2, long unused3,
                                   long unused4, long unused5) {
        try {
            return h.handle() ? 1 : 0;
        } catch (Throwable t) {
            hookFailed(t);
            return 0;
        }
    }

    /** Records a hook's exception for start() to rethrow and stops the engine. Never throws. */
    private void hookFailed(Throwable t) {
        try {
            if (pending == null) {
                pending = t;
            } else if (pending != t) {
                pending.addSuppressed(t);
            }
            long ignored = (long) Native.UC_EMU_STOP.invokeExact(ucAddress, 0L, 0L, 0L, 0L, 0L);
        } catch (Throwable ignored) {
            // nothing more can be done without letting it reach native code
        }
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("Unicorn engine is closed");
    }

    private static MemorySegment unscoped(MemorySegment s) {
        return MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize());
    }

    /** A call f(uc, pointer) of a handle whose pointers are addresses. */
    private int callFast(MethodHandle f, long pointer) {
        try {
            return (int) (long) f.invokeExact(ucAddress, pointer, 0L, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void check(int err, String op) {
        if (err != 0) throw error(err, op);
    }

    static UnicornException error(int err, String op) {
        String text = Native.strerror(err); // Unicorn's text already ends with "(UC_ERR_...)"
        String name = UnicornException.codeName(err);
        return new UnicornException(err, op + ": " + (text.contains(name) ? text : text + " (" + name + ")"));
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** uc_ctl(uc, control, a, b): a control that takes one int reads the low half of {@code a}. */
    private int ctl(int control, long a, long b) {
        return (int) Native.call(Native.GOEMU_CTL, ucAddress, control, a, b, 0);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        throw new UnicornException("exception in a Unicorn hook: " + t, t);
    }
}
