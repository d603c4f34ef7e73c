package imageproc_test

import (
	"fmt"

	"github.com/qwen3vl/qwen3vl/imageproc"
	"github.com/qwen3vl/qwen3vl/textjoin"
)

// A 3-second clip at 30 frames per second, already decoded: the processor keeps
// int(90/30·2) = 6 frames and pairs them into 3 temporal patches, each with its timestamp.
func ExamplePreprocessVideo() {
	frames := make([]*imageproc.RGB, 90)
	for i := range frames {
		frames[i] = imageproc.NewRGB(160, 120)
	}
	opts := imageproc.DefaultVideoOptions() // Qwen3-VL's video_preprocessor_config.json
	res, err := imageproc.PreprocessVideo(&imageproc.Video{Frames: frames, FPS: 30}, opts)
	if err != nil {
		panic(err)
	}
	fmt.Println("frames", res.FrameIndices, "grid", res.Grid, "rows", len(res.Pixels)/opts.PatchDim())
	for _, t := range res.Timestamps {
		fmt.Print(textjoin.TimestampText(t), " ")
	}
	fmt.Println()
	// Output:
	// frames [0 18 36 53 71 89] grid (3, 8, 10) rows 240
	// <0.3 seconds> <1.5 seconds> <2.7 seconds>
}
