package generate

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseGenerationConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		json string
		want func(*Config)
	}{
		{"empty: HF's defaults", `{}`, func(*Config) {}},
		{"Qwen3-VL Instruct", `{"bos_token_id": 151643, "pad_token_id": 151643, "do_sample": true,
			"eos_token_id": [151645, 151643], "top_k": 20, "top_p": 0.8, "repetition_penalty": 1.0,
			"temperature": 0.7, "transformers_version": "4.56.0"}`, func(c *Config) {
			c.DoSample, c.TopK, c.TopP, c.Temperature = true, 20, 0.8, 0.7
			c.EOS = []int32{151645, 151643}
		}},
		{"nulls keep defaults", `{"top_k": null, "temperature": null, "eos_token_id": null}`, func(*Config) {}},
		{"one eos, stop string, lengths", `{"eos_token_id": 2, "stop_strings": "END", "max_new_tokens": 64, "max_length": 100, "min_p": 0.05}`, func(c *Config) {
			c.EOS, c.StopStrings, c.MaxNewTokens, c.MaxLength, c.MinP = []int32{2}, []string{"END"}, 64, 100, 0.05
		}},
		{"stop list, top_k 0, temperature 0", `{"stop_strings": ["a", "b"], "top_k": 0, "temperature": 0, "do_sample": true}`, func(c *Config) {
			c.StopStrings, c.TopK, c.Temperature, c.DoSample = []string{"a", "b"}, 0, 0, true
		}},
	} {
		got, err := ParseGenerationConfig([]byte(c.json))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := DefaultConfig()
		c.want(&want)
		if got.DoSample != want.DoSample || got.Temperature != want.Temperature || got.TopK != want.TopK ||
			got.TopP != want.TopP || got.MinP != want.MinP || got.RepetitionPenalty != want.RepetitionPenalty ||
			got.MaxNewTokens != want.MaxNewTokens || got.MaxLength != want.MaxLength ||
			!slices.Equal(got.EOS, want.EOS) || !slices.Equal(got.StopStrings, want.StopStrings) {
			t.Errorf("%s: %+v, want %+v", c.name, got, want)
		}
	}
}

func TestParseGenerationConfigFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "tokenizer", "qwen3vl", "generation_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseGenerationConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.EOS, []int32{151645, 151643}) || c.DoSample || c.TopK != 50 {
		t.Errorf("%+v", c)
	}
}

func TestParseGenerationConfigErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`[]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{``, "not a JSON object"},
		{`{} {}`, "data after"},
		{`{"temperature": -1}`, "temperature -1"},
		{`{"top_p": 1.5}`, "top_p 1.5"},
		{`{"top_p": -0.1}`, "top_p -0.1"},
		{`{"top_k": -3}`, "top_k -3"},
		{`{"top_k": 2.5}`, "top_k: 2.5 is not an integer"},
		{`{"top_k": 1e300}`, "top_k"},
		{`{"min_p": 2}`, "min_p 2"},
		{`{"repetition_penalty": 0}`, "repetition_penalty 0"},
		{`{"max_new_tokens": -1}`, "max_new_tokens -1"},
		{`{"max_length": "x"}`, "max_length"},
		{`{"eos_token_id": "x"}`, "eos_token_id: not an int"},
		{`{"eos_token_id": [-1]}`, "eos_token_id: -1"},
		{`{"stop_strings": 3}`, "stop_strings: not a string"},
		{`{"stop_strings": [""]}`, "stop string 0 is empty"},
		{`{"do_sample": "yes"}`, "cannot unmarshal"},
	} {
		_, err := ParseGenerationConfig([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "generate: generation_config.json: ") {
			t.Errorf("%s: error %v, want %q", c.json, err, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Temperature = math.NaN() },
		func(c *Config) { c.TopP = math.Inf(1) },
		func(c *Config) { c.PresencePenalty = 2.5 },
		func(c *Config) { c.FrequencyPenalty = -3 },
		func(c *Config) { c.EOS = []int32{-2} },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBudget(t *testing.T) {
	for _, c := range []struct{ newTokens, length, prompt, want int }{
		{0, 0, 100, 20}, {64, 0, 100, 64}, {64, 50, 10, 64}, {0, 50, 10, 40}, {0, 50, 80, 1},
	} {
		cfg := Config{MaxNewTokens: c.newTokens, MaxLength: c.length}
		if got := cfg.Budget(c.prompt); got != c.want {
			t.Errorf("%+v: %d", c, got)
		}
	}
}

func TestGreedy(t *testing.T) {
	for _, c := range []struct {
		sample bool
		temp   float64
		want   bool
	}{{false, 1, true}, {true, 1, false}, {true, 0, true}, {false, 0.7, true}} {
		cfg := Config{DoSample: c.sample, Temperature: c.temp}
		if cfg.Greedy() != c.want {
			t.Errorf("%+v: %v", c, !c.want)
		}
	}
}

func FuzzParseGenerationConfig(f *testing.F) {
	for _, s := range []string{`{}`, `{"top_k": 20, "top_p": 0.8, "temperature": 0.7, "do_sample": true}`,
		`{"eos_token_id": [1, 2], "stop_strings": ["x"]}`, `{"eos_token_id": 5, "stop_strings": "y"}`, `null`, `{"top_k": 1e9}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseGenerationConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		if _, err := NewProcessors(c, 8); err != nil {
			t.Fatal(err)
		}
	})
}
