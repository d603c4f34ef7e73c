package main

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/textjoin"
)

// userContent is the content of a user message with attached items (true for a video, false
// for an image, in the order given) and its text. When the text holds "<image>" or "<video>"
// marks they place the items, one mark per item (the k-th image mark is the k-th image);
// without marks the items come before the text. `\<image>` is the literal text "<image>", and
// so is any mark in the rendered conversation: marks are read here only, never by the template.
func userContent(videos []bool, text string) ([]map[string]any, error) {
	segs := textjoin.SplitMarks(text)
	var marks [2]int // images, videos
	for _, s := range segs {
		switch s.Kind {
		case textjoin.KindImage:
			marks[0]++
		case textjoin.KindVideo:
			marks[1]++
		}
	}
	var items [2]int
	for _, v := range videos {
		if v {
			items[1]++
		} else {
			items[0]++
		}
	}
	var parts []map[string]any
	if marks == [2]int{} {
		for _, v := range videos {
			parts = append(parts, map[string]any{"type": kindName(v)})
		}
		return append(parts, map[string]any{"type": "text", "text": text}), nil
	}
	for k, name := range []string{"image", "video"} {
		if marks[k] != items[k] {
			return nil, fmt.Errorf("the text has %d <%s> mark(s) but %d %s(s) are attached: give one %s per mark, or no marks to put the items before the text (write \\<%s> for the literal text)",
				marks[k], name, items[k], name, name, name)
		}
	}
	for _, s := range segs {
		switch s.Kind {
		case textjoin.KindText:
			parts = append(parts, map[string]any{"type": "text", "text": s.Text})
		default:
			parts = append(parts, map[string]any{"type": kindName(s.Kind == textjoin.KindVideo)})
		}
	}
	return parts, nil
}

// kindName is the content-part type of an item: "video" or "image".
func kindName(video bool) string {
	if video {
		return "video"
	}
	return "image"
}
