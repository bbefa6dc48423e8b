package dev.goemu.loader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Symbols by name and by address. Address lookups are a binary search: fault reports and tracing call them often. */
public final class SymbolTable {
    private final List<Symbol> all;
    private final Map<String, Symbol> byName = new HashMap<>();
    /** Functions and sized objects sorted by address, one per address; {@code starts[i] == ranges[i].value()}. */
    private final Symbol[] ranges;
    private final long[] starts;

    private SymbolTable(List<Symbol> all) {
        this.all = all;
        for (Symbol s : all) byName.putIfAbsent(s.name(), s); // local symbols can repeat a name: the first wins
        // A zero-sized object covers nothing, but a zero-sized function (assembly without a size) runs to the next
        // symbol. Where several start at one address the largest wins: Go's zero-sized runtime.text shares its
        // address with the first real function.
        List<Symbol> sorted = all.stream()
                .filter(s -> s.type() == Symbol.STT_FUNC || (s.type() == Symbol.STT_OBJECT && s.size() != 0))
                .sorted(Comparator.comparingLong(Symbol::value).thenComparing(Symbol::size, Comparator.reverseOrder()))
                .toList();
        List<Symbol> unique = new ArrayList<>(sorted.size());
        for (Symbol s : sorted) if (unique.isEmpty() || unique.getLast().value() != s.value()) unique.add(s);
        this.ranges = unique.toArray(Symbol[]::new);
        this.starts = unique.stream().mapToLong(Symbol::value).toArray();
    }

    public static SymbolTable of(Collection<Symbol> symbols) {
        return new SymbolTable(List.copyOf(symbols));
    }

    public Optional<Symbol> lookup(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The function or object whose {@code [value, value+size)} contains {@code address}, or the nearest function
     * below it if that function has no size.
     */
    public Optional<Symbol> containing(long address) {
        int i = Arrays.binarySearch(starts, address);
        if (i < 0) i = -i - 2; // the last start below address
        if (i < 0) return Optional.empty();
        Symbol s = ranges[i];
        return s.size() == 0 || address - s.value() < s.size() ? Optional.of(s) : Optional.empty();
    }

    /** Every defined symbol, in .symtab order. */
    public List<Symbol> all() {
        return all;
    }

    public boolean isEmpty() {
        return all.isEmpty();
    }
}
