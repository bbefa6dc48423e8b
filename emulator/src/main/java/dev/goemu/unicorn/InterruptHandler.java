package dev.goemu.unicorn;

/**
 * Callback of {@link Unicorn#onInterrupt}: a CPU exception or {@code int n}. Observed with Unicorn 2.1.4:
 * {@code int3} gives intno 3 with RIP after the int3; {@code div} by zero (#DE) gives intno 0 with RIP at the div
 * (returning without changing RIP or stopping re-executes it). {@code ud2} (#UD) is NOT reported here: Unicorn stops
 * with UC_ERR_INSN_INVALID unless an {@link Unicorn#onInvalidInstruction} hook handles it.
 */
@FunctionalInterface
public interface InterruptHandler {
    void handle(int intno);
}
