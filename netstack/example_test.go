package netstack_test

import (
	"context"
	"fmt"

	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// The emulator's resolver: Azure names go to the loopback listeners by
// logical port; an unknown name fails as getaddrinfo does, and each
// firmware's table says what the device prints.
func ExampleEmulatorResolver() {
	r := netstack.NewEmulatorResolver(netstack.Endpoint{MQTT: "127.0.0.1:40001", WebSocket: "127.0.0.1:40002"})
	ctx := context.Background()
	for _, port := range []int{netstack.PortMQTT, netstack.PortWebSocket} {
		addr, _ := r.Route(ctx, "myhub.azure-devices.net", port)
		fmt.Println(port, "→", addr)
	}
	_, err := r.Route(ctx, "myhub.example.org", netstack.PortMQTT)
	code, _ := netstack.EAIOf(err)
	fmt.Println(netstack.Classify(err), code, int(code))
	fmt.Println("mqtt_helper: getaddrinfo() failed, error", int(errmap.For(errmap.NRF91Modem, err).EAI))
	// Output:
	// 8883 → 127.0.0.1:40001
	// 443 → 127.0.0.1:40002
	// name-not-found EAI_NONAME -2
	// mqtt_helper: getaddrinfo() failed, error -2
}
