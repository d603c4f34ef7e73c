// Package bf16enc encodes the AVX-512 BF16 instructions that Go's assembler (1.26) has no
// mnemonics for, as bytes, and writes them as assembler macros (Header) for the kernels' Go
// assembly: `go generate` in internal/kernels runs gen_bf16.go, which writes bf16_amd64.h from
// Forms. The tests decode every encoding back with golang.org/x/arch/x86/x86asm and check the
// EVEX prefix field by field against the Intel SDM (Vol. 2, §2.7), so the bytes are checked,
// not trusted.
//
// Only the 512-bit forms without a writemask are encoded: a ZMM destination, a ZMM first
// source (EVEX.vvvv) and a ZMM or memory second source (ModRM.r/m), the memory a base register
// plus displacement, optionally broadcast from 32 bits ({1to16}).
package bf16enc

import (
	"fmt"
	"strings"
)

// Op is one of the encoded instructions.
type Op uint8

const (
	// VDPBF16PS zmm1, zmm2, zmm3/m512/m32bcst: EVEX.512.F3.0F38.W0 52 /r. For each float32 lane
	// i, zmm1[i] += zmm2.bf16[2i+1]·zmm3.bf16[2i+1], then += zmm2.bf16[2i]·zmm3.bf16[2i].
	VDPBF16PS Op = iota
	// VCVTNE2PS2BF16 zmm1, zmm2, zmm3/m512/m32bcst: EVEX.512.F2.0F38.W0 72 /r. The 16 float32
	// of zmm3 rounded to bf16 fill words 0–15 of zmm1, those of zmm2 words 16–31.
	VCVTNE2PS2BF16
	// VCVTNEPS2BF16 ymm1, zmm2/m512/m32bcst: EVEX.512.F3.0F38.W0 72 /r (EVEX.vvvv = 1111).
	VCVTNEPS2BF16
)

var ops = [...]struct {
	name   string
	pp     byte // 1: 66, 2: F3, 3: F2
	opcode byte
	nds    bool // has the EVEX.vvvv source
}{
	VDPBF16PS:      {"VDPBF16PS", 2, 0x52, true},
	VCVTNE2PS2BF16: {"VCVTNE2PS2BF16", 3, 0x72, true},
	VCVTNEPS2BF16:  {"VCVTNEPS2BF16", 2, 0x72, false},
}

func (o Op) String() string { return ops[o].name }

// GPR names the general registers by their x86 numbers, as Go's assembler spells them.
var GPR = [16]string{"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"}

// Inst is one instruction, its operands in Intel order: Dst (ModRM.reg; the accumulator of
// VDPBF16PS, a Y register for VCVTNEPS2BF16), Src1 (EVEX.vvvv; unused by VCVTNEPS2BF16) and
// Src2 (ModRM.r/m) or, when Mem, the memory at Base+Disp, broadcast if Bcst. Registers are
// numbered 0–31 (Z0–Z31), Base 0–15 (GPR).
type Inst struct {
	Op              Op
	Dst, Src1, Src2 int
	Mem             bool
	Base            int
	Disp            int32
	Bcst            bool
}

// Name is the macro's name: the mnemonic and the operands in Intel order, as Go spells the
// registers, e.g. VDPBF16PS_Z0_Z1_Z2 or VDPBF16PS_Z4_Z30_BCST_SI_8 (a negative displacement
// is written M8).
func (in Inst) Name() string {
	var b strings.Builder
	b.WriteString(in.Op.String())
	if in.Op == VCVTNEPS2BF16 {
		fmt.Fprintf(&b, "_Y%d", in.Dst)
	} else {
		fmt.Fprintf(&b, "_Z%d_Z%d", in.Dst, in.Src1)
	}
	if !in.Mem {
		fmt.Fprintf(&b, "_Z%d", in.Src2)
		return b.String()
	}
	if in.Bcst {
		b.WriteString("_BCST")
	} else {
		b.WriteString("_MEM")
	}
	d := fmt.Sprint(in.Disp)
	fmt.Fprintf(&b, "_%s_%s", GPR[in.Base], strings.Replace(d, "-", "M", 1))
	return b.String()
}

// gpr64 are the general registers' names in Intel syntax.
var gpr64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// Intel is the instruction in Intel syntax (as GNU as reads it), for the header's comments.
func (in Inst) Intel() string {
	var ops []string
	if in.Op == VCVTNEPS2BF16 {
		ops = append(ops, fmt.Sprintf("ymm%d", in.Dst))
	} else {
		ops = append(ops, fmt.Sprintf("zmm%d", in.Dst), fmt.Sprintf("zmm%d", in.Src1))
	}
	switch {
	case !in.Mem:
		ops = append(ops, fmt.Sprintf("zmm%d", in.Src2))
	case in.Bcst:
		ops = append(ops, fmt.Sprintf("dword ptr [%s%+d]{1to16}", gpr64[in.Base], in.Disp))
	default:
		ops = append(ops, fmt.Sprintf("zmmword ptr [%s%+d]", gpr64[in.Base], in.Disp))
	}
	return strings.ToLower(in.Op.String()) + " " + strings.Join(ops, ", ")
}

// Encode returns the instruction's bytes: the EVEX prefix (62 P0 P1 P2), the opcode, ModRM,
// a SIB byte when the base is SP or R12, and a displacement: none when it is 0 (and the base
// not BP or R13), else 8 bits scaled by the operand size N (EVEX "compressed disp8": N = 4 for
// a broadcast, 64 for a whole ZMM) when it divides and fits, else 32 bits.
func (in Inst) Encode() ([]byte, error) {
	if int(in.Op) >= len(ops) {
		return nil, fmt.Errorf("bf16enc: unknown op %d", in.Op)
	}
	op := ops[in.Op]
	regOK := func(r int) bool { return r >= 0 && r < 32 }
	switch {
	case !regOK(in.Dst):
		return nil, fmt.Errorf("bf16enc: %v: destination register %d", in.Op, in.Dst)
	case op.nds && !regOK(in.Src1):
		return nil, fmt.Errorf("bf16enc: %v: first source register %d", in.Op, in.Src1)
	case !in.Mem && !regOK(in.Src2):
		return nil, fmt.Errorf("bf16enc: %v: second source register %d", in.Op, in.Src2)
	case in.Mem && (in.Base < 0 || in.Base > 15):
		return nil, fmt.Errorf("bf16enc: %v: base register %d", in.Op, in.Base)
	case !in.Mem && in.Bcst:
		return nil, fmt.Errorf("bf16enc: %v: broadcast needs a memory operand", in.Op)
	}
	inv := func(bit int) byte { return byte(^bit & 1) }
	// P0: R̄ X̄ B̄ R̄' 0 0 m m, map 0F38 = 2.
	rm := in.Src2
	if in.Mem {
		rm = in.Base // 0–15: EVEX.X stays 1 (no index register)
	}
	p0 := inv(in.Dst>>3)<<7 | inv(rm>>4)<<6 | inv(rm>>3)<<5 | inv(in.Dst>>4)<<4 | 2
	// P1: W v̄ v̄ v̄ v̄ 1 p p, W0.
	vvvv := 0
	if op.nds {
		vvvv = in.Src1
	}
	p1 := byte(^vvvv&15)<<3 | 1<<2 | op.pp
	// P2: z L'L b V̄' a a a: no zeroing, 512 bits, broadcast as asked, no mask.
	var b byte
	if in.Bcst {
		b = 1
	}
	p2 := 2<<5 | b<<4 | inv(vvvv>>4)<<3
	out := []byte{0x62, p0, p1, p2, op.opcode}
	reg := byte(in.Dst&7) << 3
	if !in.Mem {
		return append(out, 3<<6|reg|byte(rm&7)), nil
	}
	n := int32(64)
	if in.Bcst {
		n = 4
	}
	var mod byte
	var disp []byte
	switch d := in.Disp; {
	case d == 0 && rm&7 != 5:
		mod = 0
	case d%n == 0 && d/n >= -128 && d/n <= 127:
		mod, disp = 1, []byte{byte(int8(d / n))}
	default:
		mod, disp = 2, []byte{byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)}
	}
	out = append(out, mod<<6|reg|byte(rm&7))
	if rm&7 == 4 { // SP, R12: SIB with no index
		out = append(out, 0x24)
	}
	return append(out, disp...), nil
}

// Header is the text of an assembler header defining one macro per instruction (Name), its
// bytes as BYTE directives, each with its Intel syntax in a comment.
func Header(insts []Inst) (string, error) {
	var b strings.Builder
	b.WriteString("// Code generated by gen_bf16.go (go generate); DO NOT EDIT.\n\n")
	b.WriteString("// AVX-512 BF16 instructions as bytes (Go's assembler has no mnemonics for them),\n")
	b.WriteString("// from internal/kernels/internal/bf16enc. Macro names list the operands in Intel order:\n")
	b.WriteString("// destination (the accumulator of VDPBF16PS), first source, second source.\n")
	seen := map[string]bool{}
	for _, in := range insts {
		if seen[in.Name()] {
			continue
		}
		seen[in.Name()] = true
		enc, err := in.Encode()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n// %s\n#define %s", in.Intel(), in.Name())
		for i, c := range enc {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " BYTE $0x%02x", c)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
