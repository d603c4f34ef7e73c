// Command k8scheck validates Kubernetes manifests offline, as an API server would on create:
// each YAML document is decoded strictly into its kind's versioned type from k8s.io/api
// (unknown fields, duplicate fields and wrong types refused: the API server's strict field
// validation, through sigs.k8s.io/json, case-sensitive), given the API's defaults, converted
// to the internal type and put through the kind's registry strategy of k8s.io/kubernetes
// (rest.BeforeCreate: PrepareForCreate, the object metadata checks and the kind's own
// validation, the same code kube-apiserver runs). No cluster and no network are needed.
//
//	go run . FILE.yaml|DIR ...
//
// A folder is read for *.yaml and *.yml files, not recursively. It prints one line per
// document and exits 1 if any failed. Kinds it knows: Deployment, Service, Job,
// HorizontalPodAutoscaler, PersistentVolumeClaim, ConfigMap; any other is an error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/autoscaling/horizontalpodautoscaler"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim"
	"k8s.io/kubernetes/pkg/registry/core/service"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kind is a kind checked: its create strategy and its resource (plural) name.
type kind struct {
	strategy rest.RESTCreateStrategy
	resource string
}

// kinds are the kinds checked, by group and kind.
var kinds = map[schema.GroupKind]kind{
	{Group: "apps", Kind: "Deployment"}:                     {deployment.Strategy, "deployments"},
	{Group: "", Kind: "Service"}:                            {service.Strategy, "services"},
	{Group: "batch", Kind: "Job"}:                           {job.Strategy, "jobs"},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}: {horizontalpodautoscaler.Strategy, "horizontalpodautoscalers"},
	{Group: "", Kind: "PersistentVolumeClaim"}:              {persistentvolumeclaim.Strategy, "persistentvolumeclaims"},
	{Group: "", Kind: "ConfigMap"}:                          {configmap.Strategy, "configmaps"},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8scheck FILE.yaml|DIR ...")
		os.Exit(2)
	}
	files, err := expand(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8scheck:", err)
		os.Exit(2)
	}
	failed, n := 0, 0
	for _, f := range files {
		docs, err := documents(f)
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		for i, d := range docs {
			n++
			what, err := check(d)
			if err != nil {
				fmt.Printf("FAIL %s, document %d (%s): %v\n", f, i+1, what, err)
				failed++
				continue
			}
			fmt.Printf("ok   %s, document %d: %s\n", f, i+1, what)
		}
	}
	fmt.Printf("%d documents, %d failed\n", n, failed)
	if failed > 0 || n == 0 {
		os.Exit(1)
	}
}

// expand turns folders into their YAML files.
func expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(a, pat))
			found = append(found, m...)
		}
		sort.Strings(found)
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml or *.yml files", a)
		}
		out = append(out, found...)
	}
	return out, nil
}

// documents splits a YAML stream at its "---" lines, dropping empty documents.
func documents(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs [][]byte
	for {
		d, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
}

func stripComments(d []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(d, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// check validates one document and names it "Kind/name".
func check(doc []byte) (string, error) {
	js, err := yaml.YAMLToJSONStrict(doc) // duplicate keys are an error here
	if err != nil {
		return "?", fmt.Errorf("YAML: %w", err)
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(js, &tm); err != nil {
		return "?", err
	}
	what := tm.Kind + "/" + tm.Metadata.Name
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil || tm.APIVersion == "" || tm.Kind == "" {
		return what, fmt.Errorf("apiVersion %q, kind %q: want both", tm.APIVersion, tm.Kind)
	}
	gvk := gv.WithKind(tm.Kind)
	k, ok := kinds[gvk.GroupKind()]
	if !ok {
		return what, fmt.Errorf("kind %s is not one this checker knows", gvk.GroupKind())
	}
	obj, err := legacyscheme.Scheme.New(gvk)
	if err != nil {
		return what, fmt.Errorf("%s: %w", gvk, err)
	}
	strict, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowUnknownFields)
	if err != nil {
		return what, fmt.Errorf("decoding %s: %w", gvk, err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return what, fmt.Errorf("strict decoding %s: %s", gvk, strings.Join(msgs, "; "))
	}
	legacyscheme.Scheme.Default(obj)
	internal, err := legacyscheme.Scheme.ConvertToVersion(obj, schema.GroupVersion{Group: gv.Group, Version: runtime.APIVersionInternal})
	if err != nil {
		return what, fmt.Errorf("converting to the internal version: %w", err)
	}
	// The context of a create request, as the API server's handler makes it (declarative
	// validation reads the request's info).
	ns := "default"
	ctx := genericapirequest.WithNamespace(context.Background(), ns)
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "create", Path: "/apis/" + tm.APIVersion + "/namespaces/" + ns + "/" + k.resource,
		APIPrefix: "apis", APIGroup: gv.Group, APIVersion: gv.Version, Namespace: ns, Resource: k.resource, Name: tm.Metadata.Name,
	})
	if acc, ok := internal.(interface {
		GetNamespace() string
		SetNamespace(string)
		SetUID(types.UID)
	}); ok {
		if acc.GetNamespace() == "" {
			acc.SetNamespace(ns)
		}
		acc.SetUID("00000000-0000-4000-8000-000000000000") // a Job's generated selector uses it
	}
	if err := rest.BeforeCreate(k.strategy, ctx, internal); err != nil {
		return what, errors.New(err.Error())
	}
	return what, nil
}
