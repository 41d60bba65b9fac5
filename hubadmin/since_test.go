package hubadmin

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// monitor --since: messages that arrived before the stream started are
// replayed, then the stream goes on with new ones.
func TestTelemetrySinceReplaysRetained(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	_, err := f.c.CreateDevice(ctx, "dev1", DeviceRequest{Auth: "sas"})
	require.NoError(t, err)
	tok, err := f.c.SASToken(ctx, "dev1", 10*time.Minute)
	require.NoError(t, err)
	roots, err := f.e.PKI().RootPool(f.e.HubRoot())
	require.NoError(t, err)
	o := paho.NewClientOptions().AddBroker("tls://" + f.e.MQTTAddr()).SetClientID(tok.ClientID).
		SetUsername(tok.Username).SetPassword(tok.Token).SetProtocolVersion(4).SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	cl := paho.NewClient(o)
	require.True(t, cl.Connect().WaitTimeout(20*time.Second))
	t.Cleanup(func() { cl.Disconnect(0) })
	for _, p := range []string{"early-1", "early-2"} {
		tk := cl.Publish("devices/dev1/messages/events/", 1, false, p)
		require.True(t, tk.WaitTimeout(10*time.Second))
		require.NoError(t, tk.Error())
	}

	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan string, 8)
	go func() {
		_ = f.c.TelemetrySince(streamCtx, "dev1", "1h", func(ev TelemetryEvent) error { events <- ev.Text; return nil })
	}()
	next := func() string {
		select {
		case s := <-events:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no telemetry event")
			return ""
		}
	}
	assert.Equal(t, "early-1", next())
	assert.Equal(t, "early-2", next())
	tk := cl.Publish("devices/dev1/messages/events/", 1, false, "live")
	require.True(t, tk.WaitTimeout(10*time.Second))
	assert.Equal(t, "live", next())

	code, body := f.call(t, "GET", "/telemetry?since=yesterday", "")
	assert.Equal(t, 400, code, body)
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"10m", now.Add(-10 * time.Minute), false},
		{"2026-01-01T00:00:00Z", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"-5m", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSince(tt.in, now)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "%v", got)
		})
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"10m", "2026-01-01T00:00:00Z", "", "1h1m", "-1s", "9999999999h"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince(s, now)
		if err == nil && s != "" && got.IsZero() && s != "0001-01-01T00:00:00Z" {
			// a zero result would silently mean "only new messages"
			if _, perr := time.Parse(time.RFC3339Nano, s); perr != nil {
				t.Fatalf("%q parsed to the zero time", s)
			}
		}
	})
}
