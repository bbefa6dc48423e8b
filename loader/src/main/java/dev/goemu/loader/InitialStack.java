package dev.goemu.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The stack a Linux x86-64 process starts with, laid out like execve() and create_elf_tables() do it, minus the
 * randomisation. From {@code sp} upward:
 * <pre>
 *   sp  argc
 *       argv pointers, NULL
 *       envp pointers, NULL
 *       auxv pairs, AT_NULL pair
 *       padding that makes sp 16-byte aligned
 *       16 random bytes (AT_RANDOM), "x86_64" (AT_PLATFORM)
 *       padding up to a multiple of 16
 *       argv strings, envp strings, execfn string (AT_EXECFN)
 *       8 zero bytes (Linux reserves the top word)
 *       stackTop
 * </pre>
 */
public final class InitialStack {
    private static final byte[] PLATFORM = cString("x86_64");

    private final long sp;
    private final byte[] bytes;
    private final long argStart, envStart, envEnd;
    private final long[] auxv;

    private InitialStack(long sp, byte[] bytes, long argStart, long envStart, long envEnd, long[] auxv) {
        this.sp = sp;
        this.bytes = bytes;
        this.argStart = argStart;
        this.envStart = envStart;
        this.envEnd = envEnd;
        this.auxv = auxv;
    }

    /**
     * Lays out the stack below {@code stackTop}. The auxiliary vector gets AT_RANDOM, AT_EXECFN and AT_PLATFORM
     * (replacing any the caller put) and AT_NULL; {@code auxv} itself is left as it is.
     */
    public static InitialStack build(long stackTop, List<String> argv, List<String> envp, String execfn, Auxv auxv,
                                     byte[] random16) {
        if (random16.length != 16) throw new IllegalArgumentException("AT_RANDOM needs 16 bytes, got " + random16.length);
        byte[] fn = cString(execfn);
        byte[][] args = argv.stream().map(InitialStack::cString).toArray(byte[][]::new);
        byte[][] envs = envp.stream().map(InitialStack::cString).toArray(byte[][]::new);

        // Linux copies the strings top-down, execfn first, each list last string first.
        long p = stackTop - 8;
        long fnAt = p -= fn.length;
        long[] envAt = new long[envs.length];
        for (int i = envs.length - 1; i >= 0; i--) envAt[i] = p -= envs[i].length;
        long[] argAt = new long[args.length];
        for (int i = args.length - 1; i >= 0; i--) argAt[i] = p -= args[i].length;
        p &= ~15L; // arch_align_stack(), minus the random offset
        long platformAt = p -= PLATFORM.length;
        long randomAt = p -= 16;

        Auxv full = new Auxv();
        for (long[] e : auxv.entries()) full.put(e[0], e[1]);
        List<long[]> aux = full.put(Auxv.AT_RANDOM, randomAt).put(Auxv.AT_EXECFN, fnAt).put(Auxv.AT_PLATFORM, platformAt)
                .entries();
        long words = 1 + (args.length + 1) + (envs.length + 1) + 2L * (aux.size() + 1);
        long sp = (p - 8 * words) & ~15L; // STACK_ROUND: the padding goes between AT_NULL and the random bytes

        byte[] image = new byte[Math.toIntExact(stackTop - sp)];
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(args.length);
        for (long a : argAt) b.putLong(a);
        b.putLong(0);
        for (long e : envAt) b.putLong(e);
        b.putLong(0);
        for (long[] e : aux) b.putLong(e[0]).putLong(e[1]);
        b.putLong(Auxv.AT_NULL).putLong(0);
        for (int i = 0; i < args.length; i++) b.put(Math.toIntExact(argAt[i] - sp), args[i]);
        for (int i = 0; i < envs.length; i++) b.put(Math.toIntExact(envAt[i] - sp), envs[i]);
        b.put(Math.toIntExact(fnAt - sp), fn);
        b.put(Math.toIntExact(platformAt - sp), PLATFORM);
        b.put(Math.toIntExact(randomAt - sp), random16);
        long[] auxWords = new long[2 * aux.size() + 2]; // AT_NULL ends it
        for (int i = 0; i < aux.size(); i++) {
            auxWords[2 * i] = aux.get(i)[0];
            auxWords[2 * i + 1] = aux.get(i)[1];
        }
        long envStart = envs.length > 0 ? envAt[0] : fnAt;
        return new InitialStack(sp, image, args.length > 0 ? argAt[0] : envStart, envStart, fnAt, auxWords);
    }

    /** The guest address of argc: the stack pointer at the entry point, 16-byte aligned. */
    public long sp() {
        return sp;
    }

    /** The lowest address the image covers; the same as {@link #sp()}. */
    public long base() {
        return sp;
    }

    /** Where the argv strings start; they end where the envp strings start ({@link #envStart}). */
    public long argStart() {
        return argStart;
    }

    /** Where the envp strings start. */
    public long envStart() {
        return envStart;
    }

    /** Where the envp strings end (one past the last NUL). */
    public long envEnd() {
        return envEnd;
    }

    /** The auxiliary vector as the stack holds it: type, value pairs ending with AT_NULL. */
    public long[] auxv() {
        return auxv.clone();
    }

    /** The bytes to write at {@code [base(), stackTop)}. */
    public byte[] bytes() {
        return bytes;
    }

    private static byte[] cString(String s) {
        if (s.indexOf('\0') >= 0) throw new IllegalArgumentException("NUL byte inside a process string: " + s);
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, out, 0, utf8.length);
        return out;
    }
}
