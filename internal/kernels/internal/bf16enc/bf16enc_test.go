package bf16enc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// x86Op is each Op's name in x86asm.
var x86Op = map[Op]x86asm.Op{VDPBF16PS: x86asm.VDPBF16PS, VCVTNE2PS2BF16: x86asm.VCVTNE2PS2BF16, VCVTNEPS2BF16: x86asm.VCVTNEPS2BF16}

// cases are hand-picked encodings: low and high registers in every field (EVEX.R/R', V',
// X/B), and every memory shape (no displacement, compressed disp8, disp32, negative, the SIB
// bases SP and R12, the disp-only-with-mod-01 bases BP and R13).
var cases = []Inst{
	{Op: VDPBF16PS, Dst: 0, Src1: 1, Src2: 2},
	{Op: VDPBF16PS, Dst: 31, Src1: 30, Src2: 29},
	{Op: VDPBF16PS, Dst: 8, Src1: 16, Src2: 24},
	{Op: VDPBF16PS, Dst: 17, Src1: 9, Src2: 15},
	{Op: VCVTNE2PS2BF16, Dst: 3, Src1: 19, Src2: 27},
	{Op: VCVTNE2PS2BF16, Dst: 20, Src1: 4, Src2: 11},
	{Op: VCVTNEPS2BF16, Dst: 5, Src2: 21},
	{Op: VCVTNEPS2BF16, Dst: 22, Src2: 7},
	{Op: VDPBF16PS, Dst: 1, Src1: 2, Mem: true, Base: 6, Bcst: true},
	{Op: VDPBF16PS, Dst: 1, Src1: 2, Mem: true, Base: 6, Disp: 28, Bcst: true},
	{Op: VDPBF16PS, Dst: 1, Src1: 2, Mem: true, Base: 6, Disp: 30, Bcst: true},
	{Op: VDPBF16PS, Dst: 1, Src1: 2, Mem: true, Base: 6, Disp: -512, Bcst: true},
	{Op: VDPBF16PS, Dst: 1, Src1: 2, Mem: true, Base: 6, Disp: 512, Bcst: true},
	{Op: VDPBF16PS, Dst: 25, Src1: 26, Mem: true, Base: 4, Disp: 64},
	{Op: VDPBF16PS, Dst: 25, Src1: 26, Mem: true, Base: 12, Disp: 64 * 127},
	{Op: VDPBF16PS, Dst: 25, Src1: 26, Mem: true, Base: 5},
	{Op: VDPBF16PS, Dst: 25, Src1: 26, Mem: true, Base: 13, Disp: -64 * 129},
	{Op: VCVTNE2PS2BF16, Dst: 9, Src1: 18, Mem: true, Base: 15, Disp: 192},
	{Op: VCVTNEPS2BF16, Dst: 12, Mem: true, Base: 8, Disp: 4, Bcst: true},
}

// random are n instructions with random operands.
func random(n int) []Inst {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]Inst, n)
	for k := range s {
		in := Inst{Op: Op(r.IntN(len(ops))), Dst: r.IntN(32), Src1: r.IntN(32), Src2: r.IntN(32)}
		if in.Op == VCVTNEPS2BF16 {
			in.Src1 = 0
		}
		if r.IntN(2) == 0 {
			in.Mem, in.Base, in.Bcst, in.Src2 = true, r.IntN(16), r.IntN(2) == 0, 0
			in.Disp = []int32{0, 4, -4, 64, 6, 4096, -1 << 20}[r.IntN(7)] * int32(r.IntN(3))
		}
		s[k] = in
	}
	return s
}

func allCases() []Inst {
	return append(append(append([]Inst{}, cases...), Forms()...), random(2000)...)
}

// TestDecode: x86asm decodes each encoding to the same instruction, operands and length.
func TestDecode(t *testing.T) {
	for _, in := range allCases() {
		enc, err := in.Encode()
		if err != nil {
			t.Fatalf("%s: %v", in.Intel(), err)
		}
		// Trailing bytes make sure the decoder's length is its own, not len(enc).
		got, err := x86asm.Decode(append(enc, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90), 64)
		if err != nil {
			t.Errorf("%s (% x): %v", in.Intel(), enc, err)
			continue
		}
		if got.Len != len(enc) || got.Op != x86Op[in.Op] {
			t.Errorf("%s (% x): decoded %v, length %d", in.Intel(), enc, got, got.Len)
			continue
		}
		var args []x86asm.Arg
		for _, a := range got.Args {
			if a != nil && a != x86asm.K0 { // x86asm lists the (absent) writemask as K0
				args = append(args, a)
			}
		}
		want := []x86asm.Arg{x86asm.Z0 + x86asm.Reg(in.Dst)}
		if in.Op == VCVTNEPS2BF16 {
			want[0] = x86asm.Y0 + x86asm.Reg(in.Dst)
		} else {
			want = append(want, x86asm.Z0+x86asm.Reg(in.Src1))
		}
		if in.Mem {
			want = append(want, x86asm.Mem{Base: x86asm.RAX + x86asm.Reg(in.Base), Disp: int64(in.Disp)})
		} else {
			want = append(want, x86asm.Z0+x86asm.Reg(in.Src2))
		}
		// A SIB byte without an index decodes with Scale 1 and no Index: compare what matters.
		for i, a := range args {
			if m, ok := a.(x86asm.Mem); ok && m.Index == 0 {
				m.Scale = 0
				args[i] = m
			}
		}
		if fmt.Sprint(args) != fmt.Sprint(want) || got.Broadcast != in.Bcst {
			t.Errorf("%s (% x): decoded %v (args %v, broadcast %v), want args %v", in.Intel(), enc, got, args, got.Broadcast, want)
		}
	}
}

// TestFields decodes the EVEX prefix field by field as the Intel SDM (Vol. 2, §2.7.1, Table
// 2-30) lays it out, independently of Encode and of x86asm (which ignores some of them, e.g.
// z): 62, P0 = R̄ X̄ B̄ R̄' 0 0 m m, P1 = W v̄v̄v̄v̄ 1 p p, P2 = z L'L b V̄' aaa, then the
// opcode and ModRM.
func TestFields(t *testing.T) {
	for _, in := range allCases() {
		enc, _ := in.Encode()
		p0, p1, p2 := enc[1], enc[2], enc[3]
		bit := func(b byte, i uint) int { return int(b>>i) & 1 }
		modrm := enc[5]
		reg := int(modrm>>3&7) | (1-bit(p0, 7))<<3 | (1-bit(p0, 4))<<4
		vvvv := int(^p1>>3&15) | (1-bit(p2, 3))<<4
		rm := int(modrm&7) | (1-bit(p0, 5))<<3
		if modrm>>6 == 3 {
			rm |= (1 - bit(p0, 6)) << 4 // EVEX.X extends a register r/m to 32
		}
		wantPP, wantOp := ops[in.Op].pp, ops[in.Op].opcode
		wantV := in.Src1
		if !ops[in.Op].nds {
			wantV = 0 // vvvv = 1111, V' = 1
		}
		wantB := 0
		if in.Bcst {
			wantB = 1
		}
		var errs []string
		check := func(name string, got, want int) {
			if got != want {
				errs = append(errs, fmt.Sprintf("%s %d, want %d", name, got, want))
			}
		}
		check("escape", int(enc[0]), 0x62)
		check("P0[3:2]", int(p0>>2&3), 0)
		check("map", int(p0&3), 2)
		check("W", bit(p1, 7), 0)
		check("P1[2]", bit(p1, 2), 1)
		check("pp", int(p1&3), int(wantPP))
		check("z", bit(p2, 7), 0)
		check("L'L", int(p2>>5&3), 2)
		check("b", bit(p2, 4), wantB)
		check("aaa", int(p2&7), 0)
		check("opcode", int(enc[4]), int(wantOp))
		check("reg", reg, in.Dst)
		check("vvvv", vvvv, wantV)
		if in.Mem {
			check("X̄ (no index)", bit(p0, 6), 1)
			check("base", rm, in.Base)
			dispLen := len(enc) - 6 - sibLen(in)
			check("mod", int(modrm>>6), map[int]int{0: 0, 1: 1, 4: 2}[dispLen])
			if modrm>>6 == 0 && in.Base&7 == 5 {
				errs = append(errs, "mod 00 with base BP/R13 means RIP-relative")
			}
			if in.Base&7 == 4 {
				check("SIB", int(enc[6]), 0x24)
			}
			n := int32(64)
			if in.Bcst {
				n = 4
			}
			var d int32
			switch tail := enc[6+sibLen(in):]; len(tail) {
			case 1:
				d = int32(int8(tail[0])) * n
			case 4:
				d = int32(uint32(tail[0]) | uint32(tail[1])<<8 | uint32(tail[2])<<16 | uint32(tail[3])<<24)
			}
			check("displacement", int(d), int(in.Disp))
		} else {
			check("mod", int(modrm>>6), 3)
			check("r/m", rm, in.Src2)
			check("length", len(enc), 6)
		}
		if errs != nil {
			t.Errorf("%s (% x): %s", in.Intel(), enc, strings.Join(errs, "; "))
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sibLen(in Inst) int {
	if in.Mem && in.Base&7 == 4 {
		return 1
	}
	return 0
}

// TestKnownBytes: a few encodings as GNU as (binutils 2.40) assembles them.
func TestKnownBytes(t *testing.T) {
	for _, tt := range []struct {
		in   Inst
		want string
	}{
		{Inst{Op: VDPBF16PS, Dst: 0, Src1: 1, Src2: 2}, "62 f2 76 48 52 c2"},                                    // vdpbf16ps zmm0, zmm1, zmm2
		{Inst{Op: VCVTNE2PS2BF16, Dst: 0, Src1: 1, Src2: 2}, "62 f2 77 48 72 c2"},                               // vcvtne2ps2bf16 zmm0, zmm1, zmm2
		{Inst{Op: VCVTNEPS2BF16, Dst: 0, Src2: 1}, "62 f2 7e 48 72 c1"},                                         // vcvtneps2bf16 ymm0, zmm1
		{Inst{Op: VDPBF16PS, Dst: 0, Src1: 1, Mem: true, Base: 6, Disp: 8, Bcst: true}, "62 f2 76 58 52 46 02"}, // [rsi+8]{1to16}
	} {
		enc, err := tt.in.Encode()
		if got := fmt.Sprintf("% x", enc); err != nil || got != tt.want {
			t.Errorf("%s: % x (%v), want %s", tt.in.Intel(), enc, err, tt.want)
		}
	}
}

// TestErrors: operands out of range are refused.
func TestErrors(t *testing.T) {
	for _, in := range []Inst{
		{Op: VDPBF16PS, Dst: 32},
		{Op: VDPBF16PS, Src1: -1},
		{Op: VDPBF16PS, Src2: 32},
		{Op: VDPBF16PS, Mem: true, Base: 16},
		{Op: VDPBF16PS, Bcst: true},
		{Op: Op(9)},
	} {
		if _, err := in.Encode(); err == nil {
			t.Errorf("%+v: no error", in)
		}
	}
}

// TestHeaderCurrent: the checked-in bf16_amd64.h is what `go generate` writes from Forms.
func TestHeaderCurrent(t *testing.T) {
	want, err := Header(Forms())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../bf16_amd64.h")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("bf16_amd64.h is stale: run go generate in internal/kernels")
	}
}

// TestGNUAs: where GNU as and objcopy are installed, they assemble every case's Intel syntax
// to the same bytes (an encoder independent of both ours and x86asm's tables).
func TestGNUAs(t *testing.T) {
	as, err1 := exec.LookPath("as")
	objcopy, err2 := exec.LookPath("objcopy")
	if err1 != nil || err2 != nil {
		t.Skip("GNU as or objcopy not installed")
	}
	insts := allCases()
	var src strings.Builder
	src.WriteString(".intel_syntax noprefix\n")
	var want []byte
	for _, in := range insts {
		enc, _ := in.Encode()
		want = append(want, enc...)
		src.WriteString(in.Intel() + "\n")
	}
	dir := t.TempDir()
	s, o, bin := filepath.Join(dir, "x.s"), filepath.Join(dir, "x.o"), filepath.Join(dir, "x.bin")
	if err := os.WriteFile(s, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "--64", "-o", o, s).CombinedOutput(); err != nil {
		t.Skipf("as cannot assemble AVX-512 BF16 here: %v: %s", err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "--only-section=.text", o, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v: %s", err, out)
	}
	got, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	for _, in := range insts { // find the first that differs
		enc, _ := in.Encode()
		if !bytes.HasPrefix(got, enc) {
			t.Fatalf("%s: ours % x, as assembles % x…", in.Intel(), enc, got[:min(len(got), len(enc)+4)])
		}
		got = got[len(enc):]
	}
	t.Fatalf("as wrote %d more bytes", len(got))
}
