package server

import (
	"net/http"
	"strings"
)

// Media type of the pictures.
const formatPNG = "image/png"

// featureLevels are the outputs POST /v1/features.png draws (its level parameter): the merged
// tokens, each DeepStack level, the last block's patches.
var featureLevels = []string{"pooler_output", "deepstack_features.0", "deepstack_features.1", "deepstack_features.2", "last_hidden_state"}

// explainRoute is POST /v1/explain.png: the image as resized, with its patch grid, merge
// windows and token numbers, beside the dataflow of the tower for it.
var explainRoute = &encodeRoute{
	path:      "/v1/explain.png",
	one:       true,
	negotiate: negotiatePNG,
	answer:    (*Server).answerExplain,
}

// featuresRoute is POST /v1/features.png: a PCA of one output's rows as colours on the image.
var featuresRoute = &encodeRoute{
	path:      "/v1/features.png",
	options:   []string{"level"},
	one:       true,
	negotiate: negotiatePNG,
	answer:    (*Server).answerFeatures,
}

// negotiatePNG accepts an Accept header that allows image/png (an empty one does).
func negotiatePNG(accept string) (string, *apiError) {
	if strings.TrimSpace(accept) == "" {
		return formatPNG, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case formatPNG, "image/*", "*/*":
			return formatPNG, nil
		}
	}
	return "", errorf(http.StatusNotAcceptable, CodeNotAcceptable, "Accept %q does not allow image/png, the only answer of this route", accept)
}

func (s *Server) answerExplain(w http.ResponseWriter, req *encodeRequest) {
	req.fail(errorf(http.StatusNotImplemented, CodeInternal, "not yet"))
}

func (s *Server) answerFeatures(w http.ResponseWriter, req *encodeRequest) {
	req.fail(errorf(http.StatusNotImplemented, CodeInternal, "not yet"))
}
