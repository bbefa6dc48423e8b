package dev.goemu.syscalls;

import java.util.List;

/**
 * The CPU layer's part of execve: decides whether the program runs emulated (a new image, {@link Kernel#execEmulated})
 * or on the host ({@link Kernel#execNative}), by policy and by what the file is.
 */
public interface Spawner {
    /** A new emulated image of a process, opaque to the kernel. */
    interface Image {}

    /** execve of {@code path} (absolute, executable) by {@code caller}; returns 0 or -errno. */
    long exec(Kernel kernel, Task caller, String path, List<String> argv, List<String> envp);
}
