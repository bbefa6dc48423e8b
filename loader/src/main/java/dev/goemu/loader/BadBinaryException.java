package dev.goemu.loader;

/**
 * The file cannot be run by goemu. The message is one line meant for the user, usually "PATH: reason",
 * so callers print it as it is.
 */
public final class BadBinaryException extends Exception {
    public BadBinaryException(String message) {
        // A user mistake, not a bug: the stack trace would only be noise.
        super(message, null, false, false);
    }
}
