// Command anyctl is the one binary of the anycast + GSLB control plane: the
// operator's client commands and the daemons (controller, agent, dns, dev).
package main

import (
	"os"

	"github.com/anyctl/anyctl/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
