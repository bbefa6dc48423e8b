#include "textflag.h"

// func divide(a, b int64) int64
TEXT ·divide(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), CX
	CQO
	IDIVQ CX
	MOVQ AX, ret+16(FP)
	RET

// func breakpoint()
TEXT ·breakpoint(SB), NOSPLIT, $0-0
	BYTE $0xcc
	RET

// func illegal()
TEXT ·illegal(SB), NOSPLIT, $0-0
	BYTE $0x0f; BYTE $0x0b
	RET
