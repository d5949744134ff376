// Package examples holds the example deployment (PoPs, anycast services,
// origins and a GSLB zone) as YAML, embedded so that `anyctl dev` can apply
// it from any directory.
package examples

import "embed"

// FS holds every *.yaml file of the example deployment.
//
//go:embed *.yaml
var FS embed.FS
