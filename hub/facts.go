package hub

import (
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

// Facts about the real service, each written once with its source in
// /work/shared/protocols/azure-iot-hub.md (section, tag).
const (
	// DefaultHostName is the emulated hub's host name; configurable (WithHostName).
	DefaultHostName = "modemsim-hub.azure-devices.net"

	// hubHostSuffix and dpsHostSuffix are the public DNS zones of the services;
	// SNI under dpsHostSuffix selects the DPS server (§3.3 [obs]/[inf]).
	hubHostSuffix = ".azure-devices.net"
	dpsHostSuffix = ".azure-devices-provisioning.net"

	// DefaultDPSHostName is the global DPS endpoint (§2.1 [src S-NRF Kconfig]).
	DefaultDPSHostName = "global.azure-devices-provisioning.net"

	// WebSocketPath is the only upgrade path the hub accepts (§1.1 [obs azure-docs#21306]).
	WebSocketPath = "/$iothub/websocket"
	// WebSocketSubprotocol is matched case-insensitively and echoed (§1.1 [src S-C]).
	WebSocketSubprotocol = "mqtt"
	// NoClientCertQuery tells the hub not to ask for a client certificate on 443
	// (§1.1, §3.4 [src S-HUB header]).
	NoClientCertQuery = "iothub-no-client-cert"

	// protocolLevel311 is the only MQTT level the hub speaks (§1.2 [obs mosquitto#953]).
	protocolLevel311 = 4

	// maxKeepAlive: server timeout is 1.5×keep-alive capped at 1767 s, so the
	// largest useful client value is 1177 s (§1.5 [doc D-MQTT]). A client
	// value of 0 is treated as the maximum [inf].
	maxKeepAlive = 1177

	// maxSubscriptions: "a device can only subscribe to five topics at a time" (§1.6 [doc D-MQTT]).
	maxSubscriptions = 5

	// maxD2CBytes: device-to-cloud message limit 256 KB (§1.6 [doc D-QUOTA]);
	// larger publishes close the connection [inf, §7].
	maxD2CBytes = 256 * 1024
	// maxC2DBytes and maxC2DQueue: C2D message size and pending messages per
	// device (§1.6 [doc D-QUOTA]).
	maxC2DBytes = 64 * 1024
	maxC2DQueue = 50
	// maxTwinSectionBytes: desired/reported 32 KB each (§1.6 [doc D-QUOTA]).
	maxTwinSectionBytes = 32 * 1024
	// maxMethodPayload: direct method payload 128 KB (§1.6 [doc D-QUOTA]).
	maxMethodPayload = 128 * 1024

	// DefaultSASSkew is the clock skew tolerated on SAS expiry (§1.3 [src S-CS]).
	DefaultSASSkew = sas.DefaultSkew

	// apiVersionPrefix marks the start of the query part in old C SDK usernames
	// without `?` (§1.2 [obs azure-iot-sdk-c#373]).
	apiVersionPrefix = "api-version="

	// willMessageType is the app property the hub adds to a forwarded Will
	// (§1.2 [doc D-MQTT]); retainProperty marks a publish that had RETAIN=1 (§1.6 [doc D-MQTT]).
	willPropertyName  = "iothub-MessageType"
	willPropertyValue = "Will"
	retainProperty    = "mqtt-retain"
)

// Root-migration dates (§3.3 [doc D-MIG]). Hubs moved from Baltimore to
// DigiCert Global Root G2 region by region between 2023-02-15 and
// 2023-10-15; the default switch date is the end of that window [I],
// configurable with WithHubMigrationDate. DPS finished by 2024-02-15.
var (
	DefaultHubMigrationDate = pki.MigrationOf(pki.ServiceHub).End
	DPSMigrationDate        = pki.MigrationOf(pki.ServiceDPS).End
)
