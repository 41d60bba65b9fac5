package netstack

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers every connection with what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func TestNetFaults(t *testing.T) {
	msg := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name    string
		latency time.Duration
		cutConn int // which connection is cut; -1 none
		cutAt   int
		// what the first and the second connection read back
		want0, want1 string
		minRTT       time.Duration
	}{
		{name: "no faults", cutConn: -1, want0: string(msg), want1: string(msg)},
		{name: "latency both ways", latency: 40 * time.Millisecond, cutConn: -1, want0: string(msg), want1: string(msg), minRTT: 80 * time.Millisecond},
		{name: "first connection cut after 5 bytes", cutConn: 0, cutAt: 5, want0: "01234", want1: string(msg)},
		{name: "second connection cut before any byte", cutConn: 1, cutAt: 0, want0: string(msg), want1: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cuts atomic.Int32
			s := New(NewEmulatorResolver(Endpoint{MQTT: echoServer(t)}), nil, WithNetFaults(NetFaults{
				Latency: tc.latency,
				Cut:     func(n int) (int, bool) { return tc.cutAt, n == tc.cutConn },
				OnCut:   func() { cuts.Add(1) },
			}))
			for i, want := range []string{tc.want0, tc.want1} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := s.DialTCP(ctx, "modemsim-hub.azure-devices.net", PortMQTT)
				cancel()
				require.NoError(t, err)
				start := time.Now()
				_, err = c.Write(msg)
				require.NoError(t, err)
				require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
				got := make([]byte, 0, len(msg))
				buf := make([]byte, 64)
				for len(got) < len(msg) {
					n, err := c.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				rtt := time.Since(start)
				c.Close()
				assert.Equal(t, want, string(got), "connection %d", i)
				if len(want) == len(msg) {
					assert.GreaterOrEqual(t, rtt, tc.minRTT, "connection %d", i)
				}
			}
			wantCuts := int32(0)
			if tc.cutConn >= 0 {
				wantCuts = 1
			}
			assert.Equal(t, wantCuts, cuts.Load())
		})
	}
}

func TestNetFaultsUnreachable(t *testing.T) {
	s := New(NewEmulatorResolver(Endpoint{MQTT: echoServer(t)}), nil, WithNetFaults(NetFaults{
		Unreachable: func(n int) bool { return n == 0 },
	}))
	_, err := s.DialTCP(context.Background(), "modemsim-hub.azure-devices.net", PortMQTT)
	require.Error(t, err, "the first connection finds no network")
	assert.Equal(t, ClassConnRefused, Classify(err))
	c, err := s.DialTCP(context.Background(), "modemsim-hub.azure-devices.net", PortMQTT)
	require.NoError(t, err, "the second does")
	c.Close()
}

func TestNetFaultsPassRefusedRoutes(t *testing.T) {
	s := New(NewEmulatorResolver(Endpoint{}), nil, WithNetFaults(NetFaults{Latency: time.Second}))
	_, err := s.DialTCP(context.Background(), "modemsim-hub.azure-devices.net", PortMQTT)
	require.Error(t, err)
	assert.Equal(t, ClassConnRefused, Classify(err))
}
