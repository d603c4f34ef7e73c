// Package picture draws what the vision tower does to an image, as PNG: Explain, the image as
// the processor resized it with its patch grid, merge windows and token numbers and the
// dataflow of pipeline.Explanation beside it; FeatureMaps and Features, the PCA of the tower's
// outputs (pooler_output, each DeepStack level, last_hidden_state) as colour maps laid back on
// the image grid. It knows no flags, files or HTTP: the command (`explain -png`, `encode
// -png`) and the service's page call it.
//
// Everything is deterministic: integer compositing, bitmap fonts (Inconsolata 8×16 from
// golang.org/x/image and a 3×5 digit font of our own), float64 PCA in a fixed order with every
// product rounded before it is summed (no fused multiply-add), so the same input gives the same
// PNG bytes.
package picture
