package dev.goemu.hooks;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Reads the Go runtime's structs out of a stopped guest, field by field, through the binary's {@link RuntimeLayout}.
 * Integer fields are read at their own size and sign-extended when their Go type is signed, so an {@code int32} of -1
 * reads as -1; atomic wrappers ({@code atomic.Int32}) are read like the integer they hold.
 */
final class RuntimeReader {
    /** Go's signed integer types, as a field's type name ends (after the package): int32, atomic.Int64, ... */
    private static final Set<String> SIGNED = Set.of("int", "int8", "int16", "int32", "int64", "Int32", "Int64");

    private final Guest guest;
    private final RuntimeLayout layout;

    RuntimeReader(Guest guest, RuntimeLayout layout) {
        this.guest = guest;
        this.layout = layout;
    }

    /**
     * Checks that {@code type} has every field in {@code paths}: a view over a runtime whose structs lack one is
     * unavailable, said once before it starts, rather than failing at every read.
     */
    static void requireFields(RuntimeLayout layout, String type, String... paths) throws LayoutUnavailableException {
        for (String path : paths) {
            if (!layout.has(type, path)) {
                throw new LayoutUnavailableException(type + " has no field " + path + " (layout: " + layout.source() + ")");
            }
        }
    }

    Guest guest() {
        return guest;
    }

    /** The integer, pointer or bool (as 0/1) at {@code path} in the {@code type} struct at {@code base}. */
    long number(long base, String type, String path) {
        RuntimeLayout.Field f = layout.field(type, path)
                .orElseThrow(() -> new IllegalArgumentException(type + " has no field " + path + " (" + layout.source() + ")"));
        long v = guest.readUnsigned(base + f.offset(), f.size());
        return isSigned(f.typeName()) && f.size() < 8 ? v << (64 - 8 * f.size()) >> (64 - 8 * f.size()) : v;
    }

    boolean flag(long base, String type, String path) {
        return number(base, type, path) != 0;
    }

    /** A Go string field: its bytes, read through its {@code str} and {@code len} words (at most {@code max} bytes). */
    String string(long base, String type, String path, int max) {
        long str = number(base, type, path + ".str");
        long len = number(base, type, path + ".len");
        return goString(str, len, max);
    }

    /** The string whose header ({@code str}, {@code len}) is at {@code address}. */
    String goString(long address, int max) {
        return goString(guest.readLong(address), guest.readLong(address + 8), max);
    }

    private String goString(long str, long len, int max) {
        if (str == 0 || len <= 0) return "";
        return new String(guest.read(str, (int) Math.min(len, max)), StandardCharsets.UTF_8);
    }

    /** {@code waitReasonStrings[reason]}, from the array of Go strings at {@code table}, as waitReason.String reads it. */
    String waitReason(long table, int reason) {
        return goString(table + 16L * reason, 64);
    }

    /** The elements pointer and length of the slice header at {@code address}. */
    long[] slice(long address) {
        return new long[] {guest.readLong(address), guest.readLong(address + 8)};
    }

    /** Whether the field's Go type is a signed integer ("int32", "internal/runtime/atomic.Int32"). */
    static boolean isSigned(String typeName) {
        return SIGNED.contains(typeName.substring(typeName.lastIndexOf('.') + 1));
    }
}
