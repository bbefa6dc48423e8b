module goemu.dev/testdata

// Every program must build with Go 1.19 (Debian bookworm's Go), so the language version stays at 1.19.
go 1.19
