package features

import (
	"os"
	"strconv"
	"testing"

	"github.com/cucumber/godog"
)

// TestFeatures runs every .feature file in this directory. Each scenario
// gets its own board, pty and state directory, so they run concurrently.
// MODEMSIM_JUNIT=<file> also writes a JUnit report (CI sets it).
func TestFeatures(t *testing.T) {
	format := "pretty"
	if path := os.Getenv("MODEMSIM_JUNIT"); path != "" {
		format += ",junit:" + path
	}
	concurrency := 4
	if v, err := strconv.Atoi(os.Getenv("MODEMSIM_FEATURE_CONCURRENCY")); err == nil && v > 0 {
		concurrency = v
	}
	fx := &fixtures{}
	defer fx.close()
	suite := godog.TestSuite{
		Name:                "modemsim",
		ScenarioInitializer: func(sc *godog.ScenarioContext) { newWorld(t, fx).register(sc) },
		Options: &godog.Options{
			Format:      format,
			Paths:       []string{"."},
			Strict:      true,
			Concurrency: concurrency,
			TestingT:    t,
		},
	}
	if suite.Run() != 0 {
		t.Fatal("feature scenarios failed")
	}
}
