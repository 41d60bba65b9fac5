package spwf04

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/modemsim/modemsim/atparser"
)

// The forum's MQTTCONN line, the longest a host usually types.
const benchLine = "AT+S.MQTTCONN=xxx-xxx.azure-devices.net,443,/$iothub/websocket?iothub-no-client-cert=true,2," +
	"xxx-xxx.azure-devices.net/deviceID,SharedAccessSignature sr=xxx-xxx.azure-devices.net%2Fdevices%2FdeviceID" +
	"&sig=igZeiL7d8T66eWHlf4TDtc55pMlbXBae8f%2FE8pEAJWI%3D&se=1529349013,deviceID,60,15,0,,\r"

// BenchmarkScan frames the line as the host writes it, echo on.
func BenchmarkScan(b *testing.B) {
	var echo atomic.Bool
	echo.Store(true)
	d := NewDiscipline(&echo, 1024)
	in := []byte(benchLine)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, _, ok := d.Scan(in); !ok {
			b.Fatal("no frame")
		}
	}
}

// BenchmarkHandleGCFG answers the longest configuration listing.
func BenchmarkHandleGCFG(b *testing.B) {
	m := newTestModule(b, newMemFlash(), Config{})
	fr := atparser.Frame{Line: []byte("AT+S.GCFG")}
	ctx := context.Background()
	for b.Loop() {
		if rep := m.Handle(ctx, fr); len(rep.Out) == 0 {
			b.Fatal("no answer")
		}
	}
}
