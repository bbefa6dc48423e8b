#include "textflag.h"

// func sigreturnWithoutFrame()
// rt_sigreturn with the stack pointer in unmapped memory: there is no signal frame to restore.
TEXT ·sigreturnWithoutFrame(SB),NOSPLIT,$0-0
	MOVQ $0x1000, SP
	MOVQ $15, AX
	SYSCALL
	RET
