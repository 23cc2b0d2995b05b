// Package archtest holds the import-direction test of the module: core is
// pure, hallapi never imports app, no domain service imports the HTTP layer,
// and test servers and tools stay out of production code. The rule table is
// in archtest_test.go; `make test` (unit-go) fails on an import against it.
package archtest
