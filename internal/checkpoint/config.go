package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/qwen3vl/qwen3vl/internal/fsutil"
)

// MaxConfigBytes bounds the config.json ReadConfig reads (released ones are a few KiB).
const MaxConfigBytes = 16 << 20

// Dir checks that dir exists and is a folder; the error says what a checkpoint folder holds.
func Dir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder (want a checkpoint folder with config.json and safetensors weights)", dir)
	}
	return nil
}

// ReadConfig reads the config file at path (a regular file of at most MaxConfigBytes) and
// parses it with parse; a parse error is prefixed with the path.
func ReadConfig[C any](path string, parse func([]byte) (C, error)) (C, error) {
	var zero C
	data, err := fsutil.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return zero, err
	}
	cfg, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// DescribeJSONError words a JSON type mismatch by the field, the Go type wanted and the JSON
// value found ("field depth: want int, got JSON string"); other errors pass unchanged.
func DescribeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return err
}
