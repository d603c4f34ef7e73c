package checkpoint

import (
	"errors"
	"strings"
	"testing"
)

func TestComputeRoundTrip(t *testing.T) {
	for _, c := range []Compute{ComputeF32, ComputeBF16, ComputeAuto} {
		got, err := ParseCompute(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCompute(%q) = %v, %v; want %v", c.String(), got, err, c)
		}
	}
	if _, err := ParseCompute("fp16"); err == nil || !strings.Contains(err.Error(), "want f32, bf16 or auto") {
		t.Errorf("ParseCompute(fp16): %v", err)
	}
	if Compute(0) != ComputeF32 {
		t.Error("the zero Compute is not ComputeF32")
	}
}

func TestResolveCompute(t *testing.T) {
	for _, c := range []struct {
		c     Compute
		w     Weights
		have  bool
		wantC Compute
		wantW Weights
		err   string // a part of the error, "" for none
	}{
		{ComputeF32, WeightsAuto, true, ComputeF32, WeightsAuto, ""},
		{ComputeF32, WeightsF32, false, ComputeF32, WeightsF32, ""},
		{ComputeBF16, WeightsAuto, true, ComputeBF16, WeightsBF16, ""},
		{ComputeBF16, WeightsBF16, true, ComputeBF16, WeightsBF16, ""},
		{ComputeBF16, WeightsF32, true, 0, 0, "weights f32 contradicts"},
		{ComputeBF16, WeightsAuto, false, 0, 0, "AVX512_BF16"},
		{ComputeAuto, WeightsAuto, true, ComputeBF16, WeightsBF16, ""},
		{ComputeAuto, WeightsAuto, false, ComputeF32, WeightsAuto, ""},
		{ComputeAuto, WeightsF32, true, ComputeF32, WeightsF32, ""},
		{Compute(9), WeightsAuto, true, 0, 0, "Compute(9)"},
		{ComputeBF16, Weights(9), true, 0, 0, "Weights(9)"},
	} {
		gc, gw, err := ResolveCompute(c.c, c.w, c.have)
		switch {
		case c.err == "" && (err != nil || gc != c.wantC || gw != c.wantW):
			t.Errorf("ResolveCompute(%v, %v, %v) = %v, %v, %v; want %v, %v", c.c, c.w, c.have, gc, gw, err, c.wantC, c.wantW)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ResolveCompute(%v, %v, %v): error %v, want one containing %q", c.c, c.w, c.have, err, c.err)
		}
	}
	if _, _, err := ResolveCompute(ComputeBF16, WeightsAuto, false); !errors.Is(err, ErrNoBF16) {
		t.Errorf("no instructions: %v, want ErrNoBF16", err)
	}
}
