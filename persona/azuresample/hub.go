package azuresample

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/netstack"
)

// connectOutcome is what mqtt_helper_connect's caller learns.
type connectOutcome struct {
	ret     int  // mqtt_helper_connect's return value
	refused byte // CONNACK code (ret is 0: CONNECT was sent)
}

// dial is mqtt_helper_connect: resolve, provision the compiled-in
// certificates (once), TLS with the sec tags, CONNECT. It logs what
// mqtt_helper (and, on a native stack, Zephyr's TLS socket and mbedTLS)
// log on the way.
func (f *Firmware) dial(ctx context.Context, host, clientID, user string,
	onMsg func(netstack.Message), onLost func(error)) (*netstack.MQTTClient, connectOutcome) {
	o := f.out
	target := host
	if f.cfg.StaticIP != "" {
		target = f.cfg.StaticIP // CONFIG_MQTT_HELPER_STATIC_IP_ADDRESS replaces the name, TLS hostname included
	}
	o.log(mHelperResolving, target)
	if f.cfg.ProvisionCertificates {
		if ret := f.provision(); ret != 0 {
			o.log(mHelperProvision, ret)
			return nil, connectOutcome{ret: ret}
		}
	}
	opts := netstack.MQTTOptions{
		Host: target, Port: f.cfg.Port, Transport: netstack.TransportMQTT,
		// Zephyr's mqtt_client_init sets clean_session = 1 [S zephyr mqtt.c].
		ClientID: clientID, Username: user, CleanSession: true, KeepAlive: f.cfg.KeepAlive,
		TLS:       f.tlsConfig(),
		OnMessage: onMsg, OnLost: onLost,
	}
	if opts.KeepAlive == 0 {
		opts.KeepAlive = -1 // 0 in CONNECT: no keep-alive
	}
	if f.cfg.WebSocket && f.set.WebSocketPatch {
		opts.Transport, opts.WebSocketPath = netstack.TransportWebSocket, f.set.WebSocketPath
		if f.set.WebSocketSubprotocol != "none" {
			opts.WebSocketSubprotocols = []string{f.set.WebSocketSubprotocol}
		} else {
			opts.WebSocketSubprotocols = []string{}
		}
	}
	f.logTLSStart()
	c, err := f.network().MQTTConnect(ctx, opts)
	if err == nil {
		f.mbedDebug(dbgHandshakeEnd)
		o.log(mHelperReqSent)
		return c, connectOutcome{}
	}
	f.deps.Logger.Info("azure_iot_hub: connect failed", "host", target, "error", err)
	if ctx.Err() != nil {
		return nil, connectOutcome{ret: errEIO}
	}
	if code, ok := netstack.ConnackOf(err); ok {
		f.mbedDebug(dbgHandshakeEnd)
		o.log(mHelperReqSent)
		return nil, connectOutcome{refused: code}
	}
	if eai, ok := netstack.EAIOf(err); ok {
		o.log(mHelperGetaddrinfo, int(eai))
		return nil, connectOutcome{ret: -int(eai)} // broker_init returns -err [S helper.c]
	}
	f.logTLSFailure(err)
	errno := f.errno(err)
	o.log(mHelperConnect, errno)
	return nil, connectOutcome{ret: errno}
}

// hubSession is one azure_iot_hub connection with the sample's work queue.
type hubSession struct {
	f      *Firmware
	dev    string
	ctx    context.Context
	cancel context.CancelFunc
	in     chan func() // the mqtt_helper thread (incoming events, in order)
	work   chan func() // the sample's application work queue

	mu        sync.Mutex
	c         *netstack.MQTTClient
	connected bool
	interval  time.Duration
	timer     *time.Timer
	recvBusy  bool // recv_buf_sem taken
}

// connect is azure_iot_hub_connect and what follows it.
func (f *Firmware) connect(ctx context.Context, host, dev string) {
	o := f.out
	o.log(mHubState, "STATE_DISCONNECTED", "STATE_CONNECTING")
	o.log(mEvt, "AZURE_IOT_HUB_EVT_CONNECTING")
	o.log(mHelperState, stUninit, stDisconnected)
	// az_iot_hub_client_get_user_name [S azure-sdk-for-c; T forum log].
	user := fmt.Sprintf("%s/%s/?api-version=%s&DeviceClientType=azsdk-c%%2F%s", host, dev, hubAPIVersion, f.set.AzureSDKVersion)
	o.log(mHubUserName, user)
	o.log(mHubUserNameSize, userNameBufSize, len(user))

	sctx, cancel := context.WithCancel(ctx)
	s := &hubSession{f: f, dev: dev, ctx: sctx, cancel: cancel, in: make(chan func(), 64), work: make(chan func(), 16), interval: f.interval}
	go s.loop(s.in)
	go s.loop(s.work)
	f.mu.Lock()
	f.session = s
	f.mu.Unlock()

	c, out := f.dial(sctx, host, dev, user, s.onMessage, s.onLost)
	if ctx.Err() != nil {
		return // closed (reset, flash) while connecting
	}
	if out.ret < 0 {
		o.log(mHubHelperConnErr, out.ret)
		o.log(mHubState, "STATE_CONNECTING", "STATE_DISCONNECTED")
		o.log(mConnectFailed, out.ret)
		return
	}
	// A positive return (getaddrinfo's code negated) passes the sample's
	// `err < 0` check [S main.c, helper.c broker_init].
	if out.ret > 0 {
		o.log(mHubHelperConnErr, out.ret)
		o.log(mHubState, "STATE_CONNECTING", "STATE_DISCONNECTED")
		o.log(mConnReqSent)
		return
	}
	o.log(mConnReqSent)
	if c == nil {
		s.in <- func() { s.refused(out.refused) }
		return
	}
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	s.in <- s.onConnack
}

func (s *hubSession) loop(q chan func()) {
	for {
		select {
		case <-s.ctx.Done():
			return
		case fn := <-q:
			fn()
		}
	}
}

func (s *hubSession) submit(q chan func(), fn func()) {
	select {
	case q <- fn:
	case <-s.ctx.Done():
	}
}

// refused is on_connack with a refusal, then the disconnect the MQTT
// library reports and the poll loop's error [S hub.c, helper.c; T W3 log].
func (s *hubSession) refused(code byte) {
	o := s.f.out
	o.log(mHubRejected, code)
	o.log(mHubCertValid)
	o.log(mHubState, "STATE_CONNECTING", "STATE_DISCONNECTED")
	o.log(mEvt, "AZURE_IOT_HUB_EVT_CONNECTION_FAILED")
	o.log(mEvtErrCode, code)
	o.log(mHelperEvtDisc, errECONNREF)
	o.log(mHubDisconnect, errECONNREF)
	o.log(mHubSameState, "STATE_DISCONNECTED")
	o.log(mEvt, "AZURE_IOT_HUB_EVT_DISCONNECTED")
	o.log(mHelperInput, errECONNREF)
}

// onConnack is on_connack (accepted) and on_suback.
func (s *hubSession) onConnack() {
	o := s.f.out
	o.log(mHubState, "STATE_CONNECTING", "STATE_CONNECTED")
	o.log(mHubConnack)
	s.mu.Lock()
	s.connected = true
	c := s.c
	s.mu.Unlock()
	// One SUBSCRIBE with the four filters at QoS 0 (mqtt_topic.qos left
	// zero) [S hub.c topic_subscribe].
	for _, t := range []string{topicC2DSub, topicMethodsSub, topicDesiredSub, topicTwinResSub} {
		ctx, cancel := context.WithTimeout(s.ctx, s.f.pubWait)
		_, err := c.Subscribe(ctx, t, 0)
		cancel()
		if err != nil {
			o.log(mHubSubFailed, s.f.errno(err))
			o.log(mEvt, "AZURE_IOT_HUB_EVT_CONNECTED")
			return
		}
	}
	o.log(mHubSubscribed)
	o.log(mEvt, "AZURE_IOT_HUB_EVT_CONNECTED")
	// on_suback
	o.log(mEvt, "AZURE_IOT_HUB_EVT_READY")
	s.schedule(0)
	if s.f.cfg.AutoTwin || s.f.cfg.FOTA {
		s.twinRequest()
	}
}

// requestID is request_id_create_and_get: the uptime in ms, cut to three
// characters by its snprintk(buf, sizeof(buf_size), …) [S hub.c; T IDs 739, 750, 153].
func (s *hubSession) requestID() string {
	id := strconv.FormatUint(uint64(uint32(s.f.uptime().Milliseconds())), 10)
	if len(id) > 3 {
		id = id[:3]
	}
	s.f.out.log(mHubRequestID, id)
	return id
}

func (f *Firmware) uptime() time.Duration {
	f.out.mu.Lock()
	defer f.out.mu.Unlock()
	return f.deps.Clock().Sub(f.out.boot)
}

// send is azure_iot_hub_send's publish; errors are negative errnos.
func (s *hubSession) publish(topic string, payload []byte) int {
	s.mu.Lock()
	c, ok := s.c, s.connected
	s.mu.Unlock()
	if !ok {
		s.f.out.log(mHubNotConnected)
		return errENOTCONN
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.f.pubWait)
	defer cancel()
	if err := c.Publish(ctx, topic, 0, false, payload); err != nil {
		if s.ctx.Err() == nil {
			s.f.deps.Logger.Info("azure_iot_hub: publish failed", "topic", topic, "error", err)
		}
		return s.f.errno(err)
	}
	return 0
}

func (s *hubSession) twinRequest() {
	s.mu.Lock()
	ok := s.connected
	s.mu.Unlock()
	if !ok {
		s.f.out.log(mHubNotConnected)
		s.f.out.log(mHubTwinReqFailed, errENOTCONN)
		return
	}
	rid := s.requestID()
	if err := s.publish("$iothub/twin/GET/?$rid="+rid, nil); err != 0 {
		s.f.out.log(mHubTwinReqFailed, err)
		return
	}
	s.f.out.log(mHubTwinRequested)
}

// schedule is k_work_reschedule_for_queue(&send_event_work, d).
func (s *hubSession) schedule(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(d, func() { s.submit(s.work, s.sendEvent) })
}

// sendEvent is main.c send_event().
func (s *hubSession) sendEvent() {
	o := s.f.out
	up := uint32(s.f.uptime().Milliseconds())
	buf := fmt.Sprintf(`{"temperature":%d.%d,"timestamp":%d}`, 25, up%10, int32(up))
	o.log(mSendingEvent, buf)
	if err := s.publish("devices/"+s.dev+"/messages/events/", []byte(buf)); err != 0 {
		o.log(mSendFailed)
	} else {
		o.log(mEventSent)
	}
	s.mu.Lock()
	iv := s.interval
	s.mu.Unlock()
	o.log(mNextEvent, int(iv/time.Second))
	s.schedule(iv)
}

// applyInterval is event_interval_apply().
func (s *hubSession) applyInterval(sec int) {
	if sec <= 0 {
		return
	}
	s.mu.Lock()
	s.interval = time.Duration(sec) * time.Second
	s.mu.Unlock()
	s.schedule(0)
}

// eventInterval is event_interval_get() with its log lines.
func (s *hubSession) eventInterval(doc []byte) int {
	n, r := parseEventInterval(doc)
	switch r {
	case intervalUnparsable:
		s.f.out.log(mParseProps)
	case intervalMissing:
		s.f.out.log(mNoInterval)
	case intervalBadFormat:
		s.f.out.log(mBadInterval)
	}
	s.mu.Lock()
	s.recvBusy = false // k_sem_give(&recv_buf_sem) on every path after parsing
	s.mu.Unlock()
	return n
}

// onMessage runs on paho's goroutine: hand the message to the helper thread.
func (s *hubSession) onMessage(m netstack.Message) {
	payload := append([]byte(nil), m.Payload...)
	s.submit(s.in, func() { s.handle(m.Topic, payload) })
}

// handle is azure_iot_hub's on_publish and the sample's event handler.
func (s *hubSession) handle(topic string, payload []byte) {
	o := s.f.out
	switch {
	case isC2DTopic(topic):
		o.log(mHubMsgType, "Device-bound")
		o.log(mEvt, "AZURE_IOT_HUB_EVT_DATA_RECEIVED")
		o.log(mReceivedPayload, string(payload))
	case strings.HasPrefix(topic, "$iothub/methods/POST/"):
		name, rid, _ := parseMethodTopic(topic)
		o.log(mHubMsgType, "Direct method")
		if name == "" {
			o.log(mHubNoMethodName)
			o.log(mHubUnhandledMeth)
			return
		}
		if rid == "" {
			o.log(mHubNoRequestID)
			o.log(mHubUnhandledMeth)
			return
		}
		o.log(mEvt, "AZURE_IOT_HUB_EVT_DIRECT_METHOD")
		o.log(mMethodName, name)
		o.log(mMethodPayload, string(payload))
		// method_data: request_id[8], name[32], payload[200] [S main.c].
		rid, name, body := cut(rid, 7), cut(name, 31), cut(string(payload), 199)
		s.submit(s.work, func() { s.method(rid, name, body) })
	default:
		status, rid, desired, ok := parseTwinTopic(topic)
		if !ok {
			o.log(mHubUnknownTopic, topic)
			return
		}
		if desired {
			o.log(mHubMsgType, "AZ_IOT_HUB_CLIENT_TWIN_RESPONSE_TYPE_DESIRED_PROPERTIES")
			o.log(mEvt, "AZURE_IOT_HUB_EVT_TWIN_DESIRED_RECEIVED")
			s.desired(payload)
			return
		}
		kind := "AZ_IOT_HUB_CLIENT_TWIN_RESPONSE_TYPE_GET"
		switch {
		case status == 204 || status == 202:
			kind = "AZ_IOT_HUB_CLIENT_TWIN_RESPONSE_TYPE_REPORTED_PROPERTIES"
		case status >= 300:
			kind = "AZ_IOT_HUB_CLIENT_TWIN_RESPONSE_TYPE_REQUEST_ERROR"
		}
		o.log(mHubMsgType, kind)
		o.log(mHubTwinData)
		o.log(mHubTwinReqID, rid)
		switch {
		case status == 200:
			if s.f.cfg.FOTA {
				s.fotaReport(payload)
			}
			o.log(mEvt, "AZURE_IOT_HUB_EVT_TWIN_RECEIVED")
			s.applyInterval(s.eventInterval(payload))
		case status == 202 || status == 204:
			o.log(mTwinResultOK, rid)
		default:
			o.log(mHubTwinFailed, status)
			o.log(mTwinResultFail, rid, status)
		}
	}
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// fotaReport is what azure_fota does with a twin without a FOTA job: the
// warning and a report of the current version. The report's fields are
// inferred [I]; the lines are the forum's [T].
func (s *hubSession) fotaReport(doc []byte) {
	o := s.f.out
	if fw, ok := objectItem(doc, "desired"); ok {
		if fw, ok = objectItem(fw, "firmware"); ok {
			if _, ok = objectItem(fw, "jobId"); ok {
				return // a FOTA job: not simulated
			}
		}
	}
	o.log(mFOTANoJob)
	o.log(mHubFOTAReport)
	rid := s.requestID()
	report := fmt.Sprintf(`{"firmware":{"fwUpdateStatus":"current","currentFwVersion":%q}}`, s.f.set.FirmwareVersion)
	if s.publish("$iothub/twin/PATCH/properties/reported/?$rid="+rid, []byte(report)) == 0 {
		o.log(mHubFOTASent)
	}
}

// desired is on_evt_twin_desired: copy into recv_buf and run twin_report_work.
func (s *hubSession) desired(payload []byte) {
	o := s.f.out
	s.mu.Lock()
	busy := s.recvBusy
	if !busy {
		s.recvBusy = true
	}
	s.mu.Unlock()
	if busy {
		o.log(mRecvBusy)
		return
	}
	if len(payload) > recvBufSize-1 {
		o.log(mTooBig) // returns with recv_buf_sem still taken [S main.c]
		return
	}
	doc := append([]byte(nil), payload...)
	s.submit(s.work, func() {
		n := s.eventInterval(doc)
		if n < 0 {
			return
		}
		rid := s.requestID()
		if s.publish("$iothub/twin/PATCH/properties/reported/?$rid="+rid, fmt.Appendf(nil, `{"telemetryInterval":%d}`, n)) != 0 {
			o.log(mReportFailed)
			return
		}
		s.applyInterval(n)
		o.log(mIntervalApplied, n)
	})
}

// methodResponse is what direct_method_handler sends: sizeof(response) - 1
// bytes of `{"it":"worked"}`, where response is a char pointer, so 3 bytes
// on the 32-bit nRF9160 [S main.c].
const methodResponse = `{"i`

// method is direct_method_handler().
func (s *hubSession) method(rid, name, payload string) {
	o := s.f.out
	led := 1
	if strings.HasPrefix(payload, "0") {
		led = 0
	}
	if name != "led" {
		o.log(mUnknownMethod)
		return
	}
	if !s.f.cfg.DKLibrary {
		o.log(mNoLED, led)
	}
	if s.publish("$iothub/methods/res/200/?$rid="+rid, []byte(methodResponse)) != 0 {
		o.log(mMethodRespFailed)
	}
}

// onLost is the poll loop ending on an input error.
func (s *hubSession) onLost(err error) {
	if s.ctx.Err() != nil {
		return
	}
	s.submit(s.in, func() {
		s.mu.Lock()
		s.connected = false
		s.mu.Unlock()
		errno := errENOTCONN // the hub closes the socket: read() returns 0 [I]
		if c := netstack.Classify(err); c != netstack.ClassPeerClosed && c != netstack.ClassConnReset && c != netstack.ClassOther {
			errno = s.f.errno(err)
		}
		o := s.f.out
		o.log(mHelperEvtDisc, errno)
		o.log(mHubDisconnect, errno)
		o.log(mHubState, "STATE_CONNECTED", "STATE_DISCONNECTED")
		o.log(mEvt, "AZURE_IOT_HUB_EVT_DISCONNECTED")
		o.log(mHelperInput, errno)
	})
}

// disconnect is azure_iot_hub_disconnect().
func (s *hubSession) disconnect() {
	s.submit(s.in, func() {
		s.mu.Lock()
		c, ok := s.c, s.connected
		s.connected = false
		s.mu.Unlock()
		o := s.f.out
		if !ok {
			o.log(mHubNotConnected)
			return
		}
		o.log(mHubState, "STATE_CONNECTED", "STATE_DISCONNECTING")
		c.Disconnect(250 * time.Millisecond)
		o.log(mHelperEvtDisc, 0)
		o.log(mHubDisconnect, 0)
		o.log(mHubState, "STATE_DISCONNECTING", "STATE_DISCONNECTED")
		o.log(mEvt, "AZURE_IOT_HUB_EVT_DISCONNECTED")
	})
}

// close ends the session without log lines (reset, power off).
func (s *hubSession) close() {
	s.cancel()
	s.mu.Lock()
	c := s.c
	s.connected = false
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	if c != nil {
		c.Disconnect(0)
	}
}
