package dps

import (
	"fmt"
	"slices"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// protocolLevel is the only MQTT level DPS speaks: 3.1.1 (§2.1, §1.2 [doc P-MQTT]).
const protocolLevel = 4

// hook plugs the Service into mochi. It never fans out: responses are
// written to the requesting connection only (§2.2, like the hub's twin [inf]).
type hook struct {
	mqtt.HookBase
	s *Service
}

var provided = []byte{
	mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketRead,
	mqtt.OnPublish, mqtt.OnPublished, mqtt.OnDisconnect,
}

func (h *hook) ID() string           { return "modemsim-dps" }
func (h *hook) Provides(b byte) bool { return slices.Contains(provided, b) }

// OnConnect refuses every protocol level but 3.1.1 with a 3.1.1 CONNACK 1
// (§1.2 [obs mosquitto#953]), and says so in a Reason.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if cl.Properties.ProtocolVersion == protocolLevel {
		return nil
	}
	h.s.refuse(pk.Connect.ClientIdentifier, CheckProtocolVersion,
		fmt.Sprintf("MQTT protocol level %d; DPS speaks only 3.1.1 (level 4)", cl.Properties.ProtocolVersion),
		map[string]string{"protocolLevel": fmt.Sprint(cl.Properties.ProtocolVersion)})
	cl.Properties.ProtocolVersion = protocolLevel // so the CONNACK is encoded as 3.1.1
	_ = h.s.server.SendConnack(cl, packets.ErrUnsupportedProtocolVersion, false, nil)
	return packets.ErrUnsupportedProtocolVersion
}

// OnConnectAuthenticate decides attestation; false makes mochi answer
// CONNACK 5 (ErrBadUsernameOrPassword maps to 0x05 for 3.1.1) and close.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	sess, code := h.s.connect(cl, pk)
	if code != packets.CodeSuccess {
		return false
	}
	h.s.mu.Lock()
	h.s.sessions[cl] = sess
	h.s.mu.Unlock()
	return true
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.s.mu.Lock()
	delete(h.s.sessions, cl)
	h.s.mu.Unlock()
}

// OnACLCheck admits only the DPS request topics and the response filter.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write {
		_, err := parseRequestTopic(topic)
		return err == nil
	}
	return topic == ResponseFilter
}

// errPolicing closes the connection without an MQTT packet: returning
// ErrRejectPacket from OnPacketRead ends mochi's read loop, which is how the
// service reacts to protocol violations ("MQTT terminates the connection",
// §1.5 [doc D-MQTT]; applied to DPS [inf]).
var errPolicing = packets.ErrRejectPacket

// OnPacketRead polices what a device may send.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Connect:
		// A 0-byte password is allowed after the flag [MQTT 3.1.1
		// §3.1.3.5] and means X.509 attestation; mochi's validation would
		// answer 0x82, which 3.1.1 does not have [I].
		pk.Connect.PasswordFlag = hasPassword(pk)
	case packets.Publish:
		if pk.FixedHeader.Qos > 1 {
			h.s.refuse(cl.ID, CheckQoS, "PUBLISH with QoS 2; DPS closes the connection",
				map[string]string{"topic": pk.TopicName})
			return pk, errPolicing
		}
		if _, err := parseRequestTopic(pk.TopicName); err != nil {
			h.s.refuse(cl.ID, CheckTopic, "PUBLISH to a topic outside the DPS API; connection closed: "+err.Error(),
				map[string]string{"topic": pk.TopicName})
			return pk, errPolicing
		}
	case packets.Subscribe:
		for _, f := range pk.Filters {
			if f.Filter != ResponseFilter {
				h.s.refuse(cl.ID, CheckSubscribe,
					fmt.Sprintf("SUBSCRIBE to %q; DPS devices subscribe only to %q; connection closed", f.Filter, ResponseFilter),
					map[string]string{"filter": f.Filter})
				return pk, errPolicing
			}
		}
	}
	return pk, nil
}

// OnPublish keeps requests away from the broker's fan-out and retain store.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	return pk, packets.CodeSuccessIgnore
}

// OnPublished answers a request after mochi has sent the PUBACK.
func (h *hook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	req, err := parseRequestTopic(pk.TopicName)
	if err != nil {
		return // policed in OnPacketRead
	}
	h.s.handle(cl, req, pk.Payload)
}

// hasPassword: the CONNECT carries a SAS token.
func hasPassword(pk packets.Packet) bool {
	return pk.Connect.PasswordFlag && len(pk.Connect.Password) > 0
}
