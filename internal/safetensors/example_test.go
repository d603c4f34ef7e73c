package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/qwen3vl/qwen3vl/internal/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "out.safetensors")

	// Write two tensors to a file.
	out, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	err = safetensors.Write(out, []safetensors.Tensor{
		safetensors.F32Tensor("weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		safetensors.I64Tensor("grid_thw", []int{1, 3}, []int64{1, 16, 16}),
	}, map[string]string{"format": "pt"})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}

	// Read them back.
	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for _, t := range f.Header().Tensors {
		fmt.Printf("%s %s %v bytes [%d, %d)\n", t.Name, t.DType, t.Shape, t.Begin, t.End)
	}
	w, err := f.Float32("weight")
	if err != nil {
		log.Fatal(err)
	}
	grid, err := f.Int64("grid_thw")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w, grid, f.Header().Metadata["format"])
	// Output:
	// weight F32 [2 2] bytes [0, 16)
	// grid_thw I64 [1 3] bytes [16, 40)
	// [1 2 3 4] [1 16 16] pt
}
