package safetensors

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheckShardName(t *testing.T) {
	for _, tc := range []struct {
		shard string
		ok    bool
		why   string
	}{
		{"model-00001-of-00002.safetensors", true, ""},
		{"sub/model.safetensors", true, ""},
		{"a b.safetensors", true, ""},
		{"", false, "empty"},
		{"../model.safetensors", false, `".."`},
		{"sub/../../model.safetensors", false, `".."`},
		{"sub/../model.safetensors", false, `".."`},
		{"./model.safetensors", false, `"."`},
		{"sub//model.safetensors", false, "relative"},
		{"/model.safetensors", false, "relative"},
		{"sub/", false, "relative"},
		{`sub\model.safetensors`, false, "backslash"},
		{"model\x00.safetensors", false, "NUL"},
		{"model.bin", false, "not a .safetensors file"},
		{"config.json", false, "not a .safetensors file"},
	} {
		err := CheckShardName(tc.shard)
		if tc.ok {
			if err != nil {
				t.Errorf("%q: %v", tc.shard, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), quote(tc.shard)) {
			t.Errorf("%q: error %v; want ErrInvalid naming the shard and saying %q", tc.shard, err, tc.why)
		}
	}
}

func TestParseIndex(t *testing.T) {
	ix, err := ParseIndex([]byte(`{"metadata":{"total_size":3},"weight_map":{
		"model.visual.a":"model-00002-of-00002.safetensors",
		"model.visual.b":"model-00001-of-00002.safetensors",
		"model.visual.c":"model-00002-of-00002.safetensors",
		"lm_head.weight":"lm.safetensors"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ix.Shards(visual), []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Shards(visual) = %q, want %q", got, want)
	}
	if got := ix.Shards(nil); len(got) != 3 || got[0] != "lm.safetensors" {
		t.Errorf("Shards(nil) = %q", got)
	}
	if got := ix.Shards(func(string) bool { return false }); got != nil {
		t.Errorf("Shards(none) = %q", got)
	}
	// A bad shard name fails the whole index, even for a tensor nobody needs.
	_, err = ParseIndex([]byte(`{"weight_map":{"model.visual.a":"a.safetensors","lm_head.weight":"../lm.safetensors"}}`))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `tensor "lm_head.weight": shard path "../lm.safetensors"`) {
		t.Errorf("bad shard name: %v", err)
	}
}
