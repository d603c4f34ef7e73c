module github.com/qwen3vl/qwen3vl

go 1.26.0

require (
	golang.org/x/arch v0.33.0
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
	golang.org/x/text v0.44.0
)
