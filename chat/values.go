package chat

import (
	"fmt"
	"sort"

	"github.com/qwen3vl/qwen3vl/internal/jinja"
)

// toValue converts a Go value of Options.Vars to a template value.
func toValue(v any) (jinja.Value, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []any:
		l := &jinja.List{Items: make([]jinja.Value, len(x))}
		for i, it := range x {
			jv, err := toValue(it)
			if err != nil {
				return nil, err
			}
			l.Items[i] = jv
		}
		return l, nil
	case []string:
		l := &jinja.List{Items: make([]jinja.Value, len(x))}
		for i, it := range x {
			l.Items[i] = it
		}
		return l, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := jinja.NewDict()
		for _, k := range keys {
			jv, err := toValue(x[k])
			if err != nil {
				return nil, err
			}
			d.Set(k, jv)
		}
		return d, nil
	case *jinja.List, *jinja.Dict, *jinja.Tuple:
		return x, nil
	}
	return nil, fmt.Errorf("unsupported type %T", v)
}
