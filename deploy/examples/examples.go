// Package examples holds the example deployment (four PoPs, two anycast
// services, three origins, a GSLB zone and its records) as the YAML an
// operator applies, and embeds it so that `anyctl dev` and tests can apply
// it without a path on disk.
package examples

import "embed"

// Files holds every *.yaml file of the example deployment, at the root.
//
//go:embed *.yaml
var Files embed.FS
