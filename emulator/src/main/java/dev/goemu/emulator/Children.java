package dev.goemu.emulator;

import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;
import dev.goemu.syscalls.Errno;
import dev.goemu.syscalls.Kernel;
import dev.goemu.syscalls.Spawner;
import dev.goemu.syscalls.Task;

import java.nio.file.Path;
import java.util.List;

/** execve's choice between a new emulated image (a static x86-64 ELF) and a native program, by {@link ChildPolicy}. */
final class Children implements Spawner {
    private final Emulator.Options options;

    Children(Emulator.Options options) {
        this.options = options;
    }

    @Override
    public long exec(Kernel kernel, Task caller, String path, List<String> argv, List<String> envp) {
        if (options.children() != ChildPolicy.NATIVE) {
            ElfFile elf;
            try {
                elf = Emulator.readStatic(Path.of(path));
            } catch (BadBinaryException e) {
                elf = null; // not a static x86-64 ELF: the host's to run, or to refuse
            }
            if (elf != null) {
                try {
                    kernel.execEmulated(new Emulator(options.forImage(Path.of(path), argv, envp), elf, kernel.execStart(caller)));
                    return 0;
                } catch (BadBinaryException e) {
                    return -Errno.ENOEXEC;
                }
            }
            if (options.children() == ChildPolicy.EMULATED) return -Errno.ENOEXEC;
        }
        return kernel.execNative(caller, path, argv, envp);
    }
}
