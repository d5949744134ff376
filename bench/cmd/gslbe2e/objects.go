//go:build linux

package main

import "github.com/anyctl/anyctl/validation/validationtest"

// declared is what the benchmark applies (validationtest.DeclareGslb):
// the objects of bench/gslbscale's snapshot as an operator declares them,
// and the RTTs each PoP's simulated agent reports.
type declared = validationtest.Gslb

func declare(records, origins int, seed uint64) declared {
	return validationtest.DeclareGslb(records, origins, seed)
}
