package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/scenarios"
)

func TestDemoListsEveryCase(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"demo"}, &out, &out))
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Len(t, lines, len(scenarios.Cases()))
	for i, c := range scenarios.Cases() {
		assert.True(t, strings.HasPrefix(lines[i], c.ID+" "), lines[i])
		assert.Contains(t, lines[i], c.Title)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "Z9"},
		{"demo", "--step"},
		{"demo", "W3", "extra"},
		{"demo", "--frob"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), args, &out, &out)
			var ue *usageError
			require.True(t, errors.As(err, &ue), "want a usage error, got %v", err)
		})
	}
}

// A page that cannot be written is refused before the demo runs.
func TestDemoRefusesAnUnwritablePageFirst(t *testing.T) {
	var out strings.Builder
	err := demo(context.Background(), []string{"D4", "--html", filepath.Join(t.TempDir(), "missing", "d4.html")}, strings.NewReader(""), &out)
	require.ErrorContains(t, err, "no directory")
	assert.Empty(t, out.String(), "nothing ran: not even the case's heading")
}

// TestDemoRunsACaseStepByStep runs W3 (no hub: quick) with --step, Enter
// given for each step, and --html after the case.
func TestDemoRunsACaseStepByStep(t *testing.T) {
	c, err := scenarios.Lookup("W3")
	require.NoError(t, err)
	page := filepath.Join(t.TempDir(), "w3.html")
	var out strings.Builder
	enters := strings.NewReader(strings.Repeat("\n", len(c.Steps)))
	require.NoError(t, demo(context.Background(), []string{"W3", "--step", "--html", page}, enters, &out))
	text := out.String()
	for i, s := range c.Steps {
		assert.Contains(t, text, "[Enter] step "+string(rune('1'+i))+": "+s.Say)
	}
	assert.Contains(t, text, "host>   client-cert.pem: cstr:ca:My Root CA")
	assert.Contains(t, text, "nrf7002dk| <err> azure_iot_hub: Connection was rejected with return code 5")
	assert.Contains(t, text, "hub reason: x509-common-name nrf7002dk-01")
	assert.Contains(t, text, "nrf7002dk| <inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED")
	assert.Contains(t, text, "W3 ended as its feature asserts")
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(b), `id="transcript"`)
}
