// Package prometheus holds the fleet's Prometheus alert rules
// (anyctl.rules.yml) and their unit tests (anyctl.rules.test.yml), which
// its Go test runs with promtool.
package prometheus
