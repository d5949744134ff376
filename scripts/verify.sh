#!/usr/bin/env bash
# Fails when the tree drifts from what its tools would produce.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

unformatted=$(git ls-files -co --exclude-standard '*.go' | xargs -r gofmt -l)
if [ -n "$unformatted" ]; then
  echo "verify: gofmt would change:"; echo "$unformatted"; fail=1
fi

go vet ./... || fail=1

# Operators run the client from their own machines, and the DNS server
# has code for platforms without the blocking UDP worker: everything but
# the Linux-only tools builds for macOS, and so do the tests, which a
# developer there runs (vet type-checks them with the code).
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go build ./... || { echo "verify: does not build for darwin/arm64"; fail=1; }
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet ./... || { echo "verify: the tests do not build for darwin/arm64"; fail=1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp go.mod go.sum "$tmp"/
go mod tidy
if ! diff -q go.mod "$tmp/go.mod" >/dev/null || ! diff -q go.sum "$tmp/go.sum" >/dev/null; then
  echo "verify: go.mod/go.sum are not tidy; run 'go mod tidy' and commit:"
  diff -u "$tmp/go.mod" go.mod || true
  cp "$tmp/go.mod" "$tmp/go.sum" .
  fail=1
fi

bin/buf lint || fail=1
mkdir -p "$tmp/gen"
cp -r proto "$tmp/gen/before"
bin/buf generate
if ! diff -r "$tmp/gen/before" proto >/dev/null; then
  echo "verify: generated protobuf code drifted; run 'make proto' and commit:"
  diff -r "$tmp/gen/before" proto | head -20 || true
  rm -rf proto && cp -r "$tmp/gen/before" proto
  fail=1
fi

if [ "$fail" != 0 ]; then
  echo "verify: FAILED"; exit 1
fi
echo "verify: ok"
