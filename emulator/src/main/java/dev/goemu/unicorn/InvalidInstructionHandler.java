package dev.goemu.unicorn;

/** Callback of {@link Unicorn#onInvalidInstruction} (e.g. {@code ud2}), RIP at the faulting instruction. */
@FunctionalInterface
public interface InvalidInstructionHandler {
    /** @return true if handled (the handler moved RIP or stopped the engine); false to fail with UC_ERR_INSN_INVALID */
    boolean handle();
}
