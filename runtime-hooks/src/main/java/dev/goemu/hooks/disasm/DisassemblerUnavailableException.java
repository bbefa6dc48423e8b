package dev.goemu.hooks.disasm;

/**
 * libcapstone cannot be used: not configured, missing, not Capstone 5, or cs_open failed. The message is one line,
 * meant for the user as it is. Unchecked like {@code UnicornException}: callers that can go on without a disassembler
 * catch it where they open one.
 */
public final class DisassemblerUnavailableException extends RuntimeException {
    DisassemblerUnavailableException(String message) {
        super(message);
    }

    DisassemblerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
