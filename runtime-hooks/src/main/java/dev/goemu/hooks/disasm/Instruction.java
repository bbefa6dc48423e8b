package dev.goemu.hooks.disasm;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One decoded instruction, as Capstone prints it in Intel syntax: {@code mnemonic} may carry prefixes
 * ({@code "lock cmpxchg"}, {@code "bnd call"}); {@code operands} is empty when there are none.
 *
 * <p>The targets are read from that text (Capstone's detail mode is off): Capstone prints a RIP-relative operand as
 * {@code [rip + 0x1234]}, {@code [rip - 0x10]}, {@code [rip + 8]} or {@code [rip]}, and a relative branch with its
 * absolute target, {@code call 0x46b2c0}. Numbers above 9 are hex, smaller ones decimal.
 */
public record Instruction(long address, int size, byte[] bytes, String mnemonic, String operands) {
    private static final Pattern RIP_OPERAND = Pattern.compile("\\[rip(?: ([+-]) (0x[0-9a-f]+|[0-9]+))?]");
    private static final Pattern IMMEDIATE = Pattern.compile("0x[0-9a-f]+|[0-9]+");

    public Instruction {
        bytes = bytes.clone();
        if (bytes.length != size) throw new IllegalArgumentException(size + "-byte instruction with " + bytes.length + " bytes");
        Objects.requireNonNull(mnemonic);
        Objects.requireNonNull(operands);
    }

    /** A copy of the instruction's bytes. */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The address after this instruction, which RIP-relative operands and relative branches count from. */
    public long next() {
        return address + size;
    }

    /** The absolute address of a {@code [rip ± disp]} memory operand: {@link #next()} + disp. */
    public OptionalLong ripTarget() {
        Matcher m = RIP_OPERAND.matcher(operands);
        if (!m.find()) return OptionalLong.empty();
        if (m.group(1) == null) return OptionalLong.of(next());
        long disp = parseImmediate(m.group(2));
        return OptionalLong.of(m.group(1).equals("+") ? next() + disp : next() - disp);
    }

    /** The target of a call, jmp, jcc, jrcxz or loop whose operand is an immediate; empty for indirect ones. */
    public OptionalLong branchTarget() {
        String op = mnemonic.substring(mnemonic.lastIndexOf(' ') + 1); // after a prefix such as "bnd" or "notrack"
        boolean branch = op.equals("call") || op.startsWith("j") || op.startsWith("loop");
        if (!branch || !IMMEDIATE.matcher(operands).matches()) return OptionalLong.empty();
        return OptionalLong.of(parseImmediate(operands));
    }

    private static long parseImmediate(String text) {
        return text.startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseLong(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Instruction i && address == i.address && size == i.size && Arrays.equals(bytes, i.bytes)
                && mnemonic.equals(i.mnemonic) && operands.equals(i.operands);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, size, Arrays.hashCode(bytes), mnemonic, operands);
    }

    /** {@code 0x401000: 48 8d 05 78 56 34 12  lea rax, [rip + 0x12345678]} */
    @Override
    public String toString() {
        String text = operands.isEmpty() ? mnemonic : mnemonic + " " + operands;
        return String.format("0x%x: %s  %s", address, HexFormat.ofDelimiter(" ").formatHex(bytes), text);
    }
}
